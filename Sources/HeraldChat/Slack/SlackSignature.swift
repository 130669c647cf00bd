import Foundation
import HeraldCore

/// Slack's v0 request signing: `v0=` + hex(HMAC-SHA256(signing secret, "v0:" + timestamp + ":" + raw body)),
/// sent with `X-Slack-Request-Timestamp` and `X-Slack-Signature`.
public struct SlackSignature: Sendable {
    /// Requests older or newer than this are refused as replays.
    public static let window: TimeInterval = 300

    public enum Verdict: Sendable, Equatable, CustomStringConvertible {
        case valid
        case missing
        case stale
        case mismatch

        public var description: String {
            switch self {
            case .valid: "valid"
            case .missing: "missing X-Slack-Signature or X-Slack-Request-Timestamp"
            case .stale: "the request's timestamp is more than 5 minutes from now (a replay?)"
            case .mismatch: "the signature does not match the body"
            }
        }
    }

    private let secret: [UInt8]

    public init(secret: String) {
        self.secret = Array(secret.utf8)
    }

    /// The signature for a body sent at `timestamp` (Unix seconds, as text).
    public func signature(timestamp: String, body: [UInt8]) -> String {
        "v0=" + Signing.hmacSHA256Hex(key: secret, message: Array("v0:\(timestamp):".utf8) + body)
    }

    /// Checks a request over its raw body, before anything decodes it; the comparison takes constant time.
    public func verify(timestamp: String?, signature: String?, body: [UInt8], now: Date = Date()) -> Verdict {
        guard let timestamp, let signature, let seconds = Double(timestamp) else { return .missing }
        guard abs(now.timeIntervalSince1970 - seconds) <= Self.window else { return .stale }
        return ConstantTime.equal(self.signature(timestamp: timestamp, body: body), signature) ? .valid : .mismatch
    }
}

/// `application/x-www-form-urlencoded` bodies, as Slack and Mattermost send them.
public enum FormBody {
    /// The fields by name; of a repeated name, the last.
    public static func parse(_ body: [UInt8]) -> [String: String] {
        Dictionary(pairs(body), uniquingKeysWith: { _, last in last })
    }

    /// Every field in order, repeated names included (`issue=1&issue=2`).
    public static func pairs(_ body: [UInt8]) -> [(name: String, value: String)] {
        String(decoding: body, as: UTF8.self).split(separator: "&").compactMap { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = parts.first.flatMap({ decode($0) }) else { return nil }
            return (name, parts.count > 1 ? decode(parts[1]) ?? "" : "")
        }
    }

    private static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }
}
