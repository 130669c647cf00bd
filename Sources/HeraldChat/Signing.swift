import Crypto
import Foundation
import HeraldCore

/// HMAC-SHA256 signatures: of webhook bodies (`X-Herald-Signature`) and of what Mattermost buttons carry.
public enum Signing {
    /// Lowercase hex of HMAC-SHA256 of `message` under `key`.
    public static func hmacSHA256Hex(key: [UInt8], message: some DataProtocol) -> String {
        Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key))).hexString
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
        ConstantTime.equal(self.signature(issue: issue, family: family, connector: connector), signature)
    }
}
