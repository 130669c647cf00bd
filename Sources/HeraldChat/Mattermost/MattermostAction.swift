import Foundation
import HeraldCore

/// The JSON Mattermost posts when someone clicks a button or picks a menu option on Herald's post: who
/// clicked, the post, and the button's context as Herald signed it.
public struct MattermostAction: Decodable, Sendable {
    /// The acting user as the request names them: not proven by anything, so checked against the post's
    /// channel before it counts.
    public var userID: String?
    public var postID: String?
    public var triggerID: String?
    public var context: Context

    /// What Herald put in the button: the issue, the action (its family for a menu), the connector and the
    /// rendering's stamp, with the signature over them. A menu's choice arrives beside them as
    /// `selected_option`, outside the signature.
    public struct Context: Decodable, Sendable {
        public var issueID: Int64
        public var action: String
        public var connector: String
        public var stamp: ButtonSigner.Stamp
        public var signature: String
        public var selectedOption: String?

        enum CodingKeys: String, CodingKey {
            case issueID = "issue_id"
            case action, connector, signature, expires, nonce
            case selectedOption = "selected_option"
        }

        /// Mattermost hands back the context as it was sent; numbers may come as numbers or strings.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            func number(_ key: CodingKeys) -> Int64 {
                if let number = try? container.decode(Int64.self, forKey: key) { return number }
                return Int64((try? container.decodeIfPresent(String.self, forKey: key)) ?? "") ?? 0
            }
            issueID = number(.issueID)
            action = try container.decodeIfPresent(String.self, forKey: .action) ?? ""
            connector = try container.decodeIfPresent(String.self, forKey: .connector) ?? ""
            stamp = ButtonSigner.Stamp(
                expires: number(.expires), nonce: try container.decodeIfPresent(String.self, forKey: .nonce) ?? "")
            signature = try container.decodeIfPresent(String.self, forKey: .signature) ?? ""
            selectedOption = try container.decodeIfPresent(String.self, forKey: .selectedOption)
        }
    }

    enum CodingKeys: String, CodingKey {
        case userID = "user_id"
        case postID = "post_id"
        case triggerID = "trigger_id"
        case context
    }

    /// Reads a request body; nil when it is not Mattermost's JSON with a context.
    public init?(body: [UInt8]) {
        guard (try? JSONShape.check(body)) != nil, let decoded = try? JSONDecoder().decode(Self.self, from: Data(body))
        else { return nil }
        self = decoded
    }
}
