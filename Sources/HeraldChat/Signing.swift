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
/// proves that Herald made the button, for that issue and that action, and until when it may be used.
public struct ButtonSigner: Sendable {
    private let key: [UInt8]
    /// How long a rendered button stays usable. Every change to the issue re-renders its posts, so only the
    /// buttons of posts nobody has touched for this long expire.
    public let lifetime: Int

    /// The default button lifetime: 30 days.
    public static let defaultLifetime = 30 * 86_400

    public init(key: [UInt8], lifetime: Int = ButtonSigner.defaultLifetime) {
        self.key = key
        self.lifetime = lifetime
    }

    /// The same key with another lifetime.
    public func lasting(_ lifetime: Int) -> ButtonSigner {
        ButtonSigner(key: key, lifetime: lifetime)
    }

    /// What one rendering of a post's buttons shares: when they expire (Unix seconds) and a random nonce, which
    /// makes each rendering's buttons single-use however the request around them is varied.
    public struct Stamp: Sendable, Hashable {
        public var expires: Int64
        public var nonce: String

        public init(expires: Int64, nonce: String) {
            self.expires = expires
            self.nonce = nonce
        }
    }

    /// A fresh stamp for buttons rendered at `now`.
    public func stamp(now: Date = Date()) -> Stamp {
        var generator = SystemRandomNumberGenerator()
        let nonce = (0..<12).map { _ in UInt8.random(in: .min ... .max, using: &generator) }.hexString
        let (expires, overflow) = Int64(Int(saturating: now.timeIntervalSince1970)).addingReportingOverflow(Int64(lifetime))
        return Stamp(expires: overflow ? .max : expires, nonce: nonce)
    }

    /// The signature of one button: its issue, its action's family (a menu's choice arrives beside it), the
    /// connector whose post carries it, and its stamp.
    public func signature(issue: Int64, family: String, connector: String, stamp: Stamp) -> String {
        Signing.hmacSHA256Hex(
            key: key, message: Array("v2:\(issue):\(family):\(connector):\(stamp.expires):\(stamp.nonce)".utf8))
    }

    public func verify(issue: Int64, family: String, connector: String, stamp: Stamp, signature: String) -> Bool {
        ConstantTime.equal(self.signature(issue: issue, family: family, connector: connector, stamp: stamp), signature)
    }
}
