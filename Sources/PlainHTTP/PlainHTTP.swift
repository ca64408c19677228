import CCurl
import Foundation

/// One small blocking HTTP request over libcurl, for sfpg's side channels (a Prometheus Pushgateway, the local
/// emulator's admin API). Not the Salesforce transport: no OAuth, no retries, no streaming; the whole response body
/// is returned. `http://` is allowed (a Pushgateway inside a cluster usually is); TLS, when used, is verified.
public enum PlainHTTP {
    public struct Response: Sendable {
        public var status: Int
        public var body: String
    }

    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// Sends `body` with `method` to `url` and returns the status and body; any status is a response, only a
    /// transport failure (DNS, connect, timeout) throws.
    public static func request(
        _ method: String, _ url: String, body: String? = nil, contentType: String? = nil,
        headers extra: [String] = [], timeoutSeconds: Int = 10
    ) throws -> Response {
        curlGlobalInit
        guard let handle = curl_easy_init() else { throw Failure(description: "curl_easy_init failed") }
        defer { curl_easy_cleanup(handle) }
        var headers: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headers) }
        if let contentType { headers = curl_slist_append(headers, "Content-Type: \(contentType)") }
        headers = curl_slist_append(headers, "Expect:")
        for header in extra { headers = curl_slist_append(headers, header) }

        let sink = Sink()
        let unmanaged = Unmanaged.passRetained(sink)
        defer { unmanaged.release() }
        let payload = Array((body ?? "").utf8)
        return try payload.withUnsafeBufferPointer { bytes -> Response in
            _ = sfpg_curl_setopt_str(handle, CURLOPT_URL, url)
            _ = sfpg_curl_setopt_str(handle, CURLOPT_CUSTOMREQUEST, method)
            _ = sfpg_curl_setopt_long(handle, CURLOPT_PROTOCOLS, Int(CURLPROTO_HTTP | CURLPROTO_HTTPS))
            _ = sfpg_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
            _ = sfpg_curl_setopt_long(handle, CURLOPT_TIMEOUT, timeoutSeconds)
            _ = sfpg_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, min(timeoutSeconds, 5))
            _ = sfpg_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headers)
            if body != nil {
                _ = sfpg_curl_setopt_ptr(handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress))
                _ = sfpg_curl_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(bytes.count))
            } else if method == "GET" {
                _ = sfpg_curl_setopt_long(handle, CURLOPT_HTTPGET, 1)
            }
            _ = sfpg_curl_setopt_ptr(handle, CURLOPT_WRITEDATA, unmanaged.toOpaque())
            _ = sfpg_curl_setopt_write(handle, CURLOPT_WRITEFUNCTION) { data, size, count, context in
                guard let data, let context else { return 0 }
                let sink = Unmanaged<Sink>.fromOpaque(context).takeUnretainedValue()
                sink.data.append(UnsafeRawPointer(data).assumingMemoryBound(to: UInt8.self), count: size * count)
                return size * count
            }
            let code = curl_easy_perform(handle)
            guard code == CURLE_OK else {
                throw Failure(description: "\(method) \(redacted(url)): \(String(cString: curl_easy_strerror(code)))")
            }
            var status = 0
            _ = sfpg_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
            return Response(status: status, body: String(decoding: sink.data, as: UTF8.self))
        }
    }

    /// The URL without user information, for messages.
    public static func redacted(_ url: String) -> String {
        guard var parts = URLComponents(string: url), parts.user != nil || parts.password != nil else { return url }
        parts.user = nil
        parts.password = nil
        return parts.string ?? "<url>"
    }

    private final class Sink {
        var data = Data()
    }

    private static let curlGlobalInit: Void = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    }()
}
