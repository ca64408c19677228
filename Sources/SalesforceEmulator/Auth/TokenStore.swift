import Synchronization

/// Issued access tokens. Tokens look like Salesforce's (`00D…!AR…`) and are random, so tests cannot guess them.
final class TokenStore: Sendable {
    static let orgId = "00D8d000000Emu1"
    private let tokens = Mutex<Set<String>>([])

    func issue() -> String {
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz._")
        var rng = SystemRandomNumberGenerator()
        let secret = String((0..<96).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
        let token = "\(Self.orgId)!AR\(secret)"
        tokens.withLock { _ = $0.insert(token) }
        return token
    }

    func isValid(_ token: String) -> Bool { tokens.withLock { $0.contains(token) } }

    /// Every token still valid, for tests that check a token never leaks.
    var all: [String] { tokens.withLock { Array($0) } }

    func revokeAll() { tokens.withLock { $0.removeAll() } }
}
