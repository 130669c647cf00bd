import Foundation
import HeraldCore

/// The JSON `payload` of a Slack interaction request: a click on a button or menu (`block_actions`) or a
/// modal's submission (`view_submission`). Only what Herald reads is declared; anything else Slack sends is
/// ignored, and anything missing reads as absent rather than failing the request.
public struct SlackInteraction: Decodable, Sendable {
    public var type: String
    public var team: Team?
    public var user: User?
    public var actions: [Action]?
    public var container: Container?
    public var responseURL: String?
    public var view: View?

    public struct Team: Decodable, Sendable {
        public var id: String?
    }

    public struct User: Decodable, Sendable {
        public var id: String?
        public var teamID: String?
        public var username: String?

        enum CodingKeys: String, CodingKey { case id, username, teamID = "team_id" }
    }

    public struct Action: Decodable, Sendable {
        public var value: String?
        public var selectedOption: Option?
        public var actionTS: String?

        enum CodingKeys: String, CodingKey { case value, selectedOption = "selected_option", actionTS = "action_ts" }
    }

    public struct Option: Decodable, Sendable {
        public var value: String?
    }

    public struct Container: Decodable, Sendable {
        public var messageTS: String?

        enum CodingKeys: String, CodingKey { case messageTS = "message_ts" }
    }

    public struct View: Decodable, Sendable {
        public var callbackID: String?
        public var privateMetadata: String?
        public var state: State?

        enum CodingKeys: String, CodingKey { case callbackID = "callback_id", privateMetadata = "private_metadata", state }
    }

    /// A modal's inputs: block id → action id → what was typed or chosen.
    public struct State: Decodable, Sendable {
        public var values: [String: [String: Field]]
    }

    public struct Field: Decodable, Sendable {
        public var value: String?
        public var selectedOption: Option?

        enum CodingKeys: String, CodingKey { case value, selectedOption = "selected_option" }
    }

    enum CodingKeys: String, CodingKey { case type, team, user, actions, container, view, responseURL = "response_url" }

    /// Reads the form field `payload`; nil when it is not Slack's JSON.
    public init?(payload: String) {
        guard (try? JSONShape.check(payload.utf8)) != nil,
            let decoded = try? JSONDecoder().decode(Self.self, from: Data(payload.utf8))
        else { return nil }
        self = decoded
    }

    /// The workspace the request comes from.
    public var teamID: String { team?.id ?? user?.teamID ?? "" }

    /// What a click carries: the button's value or the menu choice's, and a key that names this click, so a
    /// retried request counts once.
    public var click: Click {
        let action = actions?.first
        return Click(
            userID: user?.id ?? "", teamID: teamID, value: action?.value ?? action?.selectedOption?.value,
            actionTS: action?.actionTS ?? container?.messageTS ?? "", responseURL: responseURL)
    }

    /// What Herald needs of a click, read before the answer goes out.
    public struct Click: Sendable {
        public var userID: String
        public var teamID: String
        public var value: String?
        public var actionTS: String
        public var responseURL: String?
    }
}
