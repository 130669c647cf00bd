import Crypto
import Foundation

/// HMAC-SHA256 signatures: of webhook bodies (`X-Herald-Signature`) and of what Mattermost buttons carry.
public enum Signing {
    /// Lowercase hex of HMAC-SHA256 of `message` under `key`.
    public static func hmacSHA256Hex(key: [UInt8], message: some DataProtocol) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key))
        return code.map { byte in
            let digits = Array("0123456789abcdef")
            return "\(digits[Int(byte >> 4)])\(digits[Int(byte & 0x0F)])"
        }.joined()
    }

    /// Compares two strings in time that depends only on their lengths, so a forger learns nothing from timing.
    public static func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let left = Array(a.utf8)
        let right = Array(b.utf8)
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for index in left.indices { difference |= left[index] ^ right[index] }
        return difference == 0
    }
}

/// Signs and checks the context of Mattermost buttons. Mattermost does not sign the requests it sends when a
/// button is clicked; it does keep a button's context private, so a context signed with Herald's own key
/// proves that Herald made the button, for that issue and that action.
public struct ButtonSigner: Sendable {
    private let key: [UInt8]

    public init(key: [UInt8]) {
        self.key = key
    }

    /// The signature of one button: its issue, its action's family (a menu's choice arrives beside it) and
    /// the connector whose post carries it.
    public func signature(issue: Int64, family: String, connector: String) -> String {
        Signing.hmacSHA256Hex(key: key, message: Array("\(issue):\(family):\(connector)".utf8))
    }

    public func verify(issue: Int64, family: String, connector: String, signature: String) -> Bool {
        Signing.constantTimeEquals(self.signature(issue: issue, family: family, connector: connector), signature)
    }
}
