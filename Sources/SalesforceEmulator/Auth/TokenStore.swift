import Synchronization

/// Issued access tokens. Tokens look like Salesforce's (`00D…!AR…`) and are random, so tests cannot guess them.
final class TokenStore: Sendable {
    private let tokens = Mutex<Set<String>>([])
    /// Sandbox refreshes so far: each gives the org a new Id (`00D8d000000Emu1`, `…Emu2`, …).
    private let generation = Mutex(1)

    /// The org's 15-character Id, which prefixes every access token.
    var orgId: String {
        let alphabet = Array("123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        let n = generation.withLock { $0 }
        guard n > alphabet.count else { return "00D8d000000Emu\(alphabet[n - 1])" }
        let digits = String(n)
        return "00D8d" + String(repeating: "0", count: max(0, 10 - digits.count)) + digits
    }

    /// The org's 18-character Id, as the identity URL and userinfo name it.
    var orgId18: String { SalesforceId.canonical(orgId) ?? orgId }

    /// A sandbox refresh: a new org Id, and every session of the old org ends.
    func changeOrgId() {
        generation.withLock { $0 += 1 }
        revokeAll()
    }

    func resetOrgId() { generation.withLock { $0 = 1 } }

    func issue() -> String {
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz._")
        var rng = SystemRandomNumberGenerator()
        let secret = String((0..<96).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
        let token = "\(orgId)!AR\(secret)"
        tokens.withLock { _ = $0.insert(token) }
        return token
    }

    /// Refresh tokens issued by rotation, and those revoked by it (the configured one among them once used).
    private let refresh = Mutex<(issued: Set<String>, revoked: Set<String>, ever: Set<String>)>(([], [], []))

    /// Whether `token` may be used for the refresh-token grant: the configured one until rotation revoked it, or
    /// one issued by rotation and not yet used.
    func isUsableRefreshToken(_ token: String, configured: String) -> Bool {
        refresh.withLock { state in
            !state.revoked.contains(token) && (token == configured || state.issued.contains(token))
        }
    }

    /// Revokes `used` and issues its successor.
    func rotateRefreshToken(_ used: String) -> String {
        var rng = SystemRandomNumberGenerator()
        let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        let next = "5Aep861" + String((0..<80).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] })
        refresh.withLock { state in
            state.issued.remove(used)
            state.revoked.insert(used)
            state.issued.insert(next)
            state.ever.insert(next)
        }
        return next
    }

    /// Forgets rotation: the configured refresh token is usable again.
    func resetRefreshTokens() { refresh.withLock { $0 = ([], [], []) } }

    /// Every refresh token issued by rotation so far (used or not), for tests that check none leaks.
    var issuedRefreshTokens: [String] { refresh.withLock { Array($0.ever) } }

    func isValid(_ token: String) -> Bool { tokens.withLock { $0.contains(token) } }

    /// Every token still valid, for tests that check a token never leaks.
    var all: [String] { tokens.withLock { Array($0) } }

    func revokeAll() { tokens.withLock { $0.removeAll() } }
}

