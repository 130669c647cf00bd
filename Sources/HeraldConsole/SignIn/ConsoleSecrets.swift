import Crypto
import Foundation
import HeraldCore

/// The console's secrets: random tokens (session ids, CSRF tokens, sign-in links, OIDC state and nonce), their
/// stored hashes, and the HMAC that signs cookie values with the database's console key.
public struct ConsoleSecrets: Sendable {
    private let keyBytes: [UInt8]
    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    public init(key: [UInt8]) {
        self.keyBytes = key
    }

    /// 32 random bytes, base64url: unguessable, and safe in URLs and cookies.
    public static func token() -> String {
        var generator = SystemRandomNumberGenerator()
        return Base64URL.encode((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    /// What the store keeps of a token: its SHA-256, hex. A copy of the database gives no session or link.
    public static func hash(_ token: String) -> String {
        Array(SHA256.hash(data: Data(token.utf8))).hexString
    }

    /// `value.signature`: a cookie value the browser holds and cannot change unnoticed.
    public func signed(_ value: String) -> String {
        value + "." + Base64URL.encode(HMAC<SHA256>.authenticationCode(for: Data(value.utf8), using: key))
    }

    /// The value of a `signed(_:)` text, or nil when the signature does not match (compared in constant time).
    public func verified(_ text: some StringProtocol) -> String? {
        guard text.utf8.count <= 4_096, let dot = text.lastIndex(of: ".") else { return nil }
        let value = String(text[..<dot])
        guard let signature = Base64URL.decode(text[text.index(after: dot)...]) else { return nil }
        return HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: Data(value.utf8), using: key) ? value : nil
    }

}
