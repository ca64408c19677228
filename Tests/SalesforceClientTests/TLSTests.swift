import Foundation
import SalesforceClient
import SalesforceEmulator
import Testing
import TestSupport

/// A throwaway CA and a server certificate for 127.0.0.1, made with the openssl CLI.
private struct TestPKI {
    let caPath: String
    let certPath: String
    let keyPath: String

    init(in directory: TemporaryDirectory) throws {
        let d = directory.path
        caPath = d + "/ca.pem"
        certPath = d + "/server.pem"
        keyPath = d + "/server.key"
        let openssl = "/usr/bin/openssl"
        try TestSyncProcess.check(openssl, ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", d + "/ca.key", "-out", caPath,
                          "-days", "1", "-subj", "/CN=sfpg test CA"])
        try TestSyncProcess.check(openssl, ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", keyPath, "-out", d + "/server.csr",
                          "-subj", "/CN=127.0.0.1"])
        try "subjectAltName=IP:127.0.0.1,DNS:localhost\n".write(toFile: d + "/ext.cnf")
        try TestSyncProcess.check(openssl, ["x509", "-req", "-in", d + "/server.csr", "-CA", caPath, "-CAkey", d + "/ca.key",
                          "-CAcreateserial", "-out", certPath, "-days", "1", "-extfile", d + "/ext.cnf"])
    }
}

/// `socat` terminating TLS in front of the emulator; stopped (by its pid) when released.
private final class TLSProxy {
    let process: TestSyncProcess
    let port: Int

    init(pki: TestPKI, target: Int) throws {
        port = try TestSyncProcess.freeLoopbackPort()
        process = try TestSyncProcess(
            "/usr/bin/socat",
            [
                "OPENSSL-LISTEN:\(port),bind=127.0.0.1,cert=\(pki.certPath),key=\(pki.keyPath),verify=0,reuseaddr,fork",
                "TCP:127.0.0.1:\(target)",
            ], environment: [:])
        // Wait until socat accepts connections.
        for _ in 0..<100 {
            if canConnect(port: port) { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        struct ProxyDidNotStart: Error {}
        throw ProxyDidNotStart()  // the process is killed when released
    }

    deinit {
        process.send(SIGTERM)
        process.wait(timeout: .seconds(10))
    }

    var url: String { "https://127.0.0.1:\(port)" }
}

private func canConnect(port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    return withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
        }
    }
}

@Suite(.timeLimit(.minutes(3))) struct TLSTests {
    @Test func verifiesTheServerAgainstTheConfiguredCA() throws {
        let directory = try TemporaryDirectory()
        let pki = try TestPKI(in: directory)
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay) { $0.contactCount = 300 }
        let proxy = try TLSProxy(pki: pki, target: emulator.emulator.port)

        var trusted = emulator.clientConfiguration()
        trusted.loginURL = proxy.url
        trusted.caBundlePath = pki.caPath
        let client = SalesforceClient(configuration: trusted)
        try client.authenticate()
        #expect(emulator.requests("POST", containing: "/services/oauth2/token").count == 1)

        // The API over TLS too: reuse the token against the proxy as instance URL.
        var overTLS = emulator.clientConfiguration()
        overTLS.caBundlePath = pki.caPath
        overTLS.grant = .accessToken(token: try accessToken(of: client), instanceURL: proxy.url)
        let tlsClient = SalesforceClient(configuration: overTLS)
        let job = try tlsClient.waitForCompletion(try tlsClient.createQueryJob(contactSOQL, operation: .query).id)
        let consumer = HashingConsumer()
        let summary = try tlsClient.downloadResults(job.id, maxRecords: 100, expectedRecords: nil, into: consumer)
        #expect(summary.records == 300)
        #expect(consumer.pageHashes == emulator.expectedPages("Contact", fields: contactFields, pageSize: 100).map(FNV1a.of))
    }

    @Test func refusesAnUntrustedCertificate() throws {
        let directory = try TemporaryDirectory()
        let pki = try TestPKI(in: directory)
        let emulator = try TestEmulator(jobProcessingDelay: clientJobDelay)
        let proxy = try TLSProxy(pki: pki, target: emulator.emulator.port)

        var untrusted = emulator.clientConfiguration()
        untrusted.loginURL = proxy.url
        let error = try #require(throws: SalesforceError.self) {
            try SalesforceClient(configuration: untrusted).authenticate()
        }
        // Its own code: a CA setting to fix (exit 2), not a network failure to retry.
        #expect(error.code == .tls)
        #expect(error.message.contains("TLS"))
        #expect(error.message.contains("SF_CA_BUNDLE"))
        #expect(emulator.requests("POST", containing: "/services/oauth2/token").isEmpty)
    }

    /// The token the client holds, read back through the only public path: a second login is not needed because
    /// the emulator accepts any token it issued; we get one with the same grant over plain HTTP.
    private func accessToken(of client: SalesforceClient) throws -> String {
        let grant = client.configuration.grant
        guard case let .password(clientId, clientSecret, username, password, token) = grant else {
            Issue.record("expected the password grant")
            return ""
        }
        let form = "grant_type=password&client_id=\(clientId)&client_secret=\(clientSecret)&username=\(username)"
            + "&password=\(password)\(token ?? "")"
        let output = try TestSyncProcess.check(
            "/usr/bin/curl", ["-sS", "--fail", "--cacert", client.configuration.caBundlePath ?? "", "-d", form,
                              client.configuration.loginURL + "/services/oauth2/token"])
        let json = try #require(try JSONSerialization.jsonObject(with: Data(output)) as? [String: Any])
        return try #require(json["access_token"] as? String)
    }
}
