import Foundation
import HeraldCore

/// The modal `/herald` alone opens on Slack to raise an alert, and the reading of its submission. The
/// channel it was opened in travels in `private_metadata`.
public enum SlackAlertForm {
    public static let callbackID = "herald_alert"

    /// The modal: project, title, optional description, level.
    public static func view(projects: [String], channelID: String, channelName: String) -> [String: any Sendable] {
        func option(_ text: String, _ value: String) -> [String: any Sendable] {
            ["text": ["type": "plain_text", "text": text] as [String: any Sendable], "value": value]
        }
        func input(_ id: String, _ label: String, _ element: [String: any Sendable], optional: Bool = false)
            -> [String: any Sendable]
        {
            ["type": "input", "block_id": id, "optional": optional, "element": element,
             "label": ["type": "plain_text", "text": label] as [String: any Sendable]]
        }
        let projectOptions = projects.prefix(100).map { option($0, $0) }
        let levels = Level.allCases.reversed().map { option($0.name, $0.name) }
        let metadata = JSONWriter.text(["channel_id": channelID, "channel_name": channelName])
        return [
            "type": "modal", "callback_id": callbackID, "private_metadata": metadata,
            "title": ["type": "plain_text", "text": "Raise an alert"] as [String: any Sendable],
            "submit": ["type": "plain_text", "text": "Raise"] as [String: any Sendable],
            "close": ["type": "plain_text", "text": "Cancel"] as [String: any Sendable],
            "blocks": [
                input("project", "Project", ["type": "static_select", "action_id": "value",
                                             "options": Array(projectOptions)]),
                input("title", "Title", ["type": "plain_text_input", "action_id": "value", "max_length": 200]),
                input("description", "Description", ["type": "plain_text_input", "action_id": "value", "multiline": true],
                      optional: true),
                input("level", "Level", ["type": "static_select", "action_id": "value", "options": levels,
                                         "initial_option": option("error", "error")]),
            ] as [any Sendable],
        ]
    }

    /// A submitted form, with an error per field that is missing.
    public struct Submission: Sendable {
        public var project: String?
        public var title: String?
        public var description: String?
        public var level: Level?
        public var channelID: String
        public var channelName: String
        /// Block id → what to tell the person.
        public var errors: [String: String]

        /// Reads the form from a `view_submission`; nil when the view is not this form.
        public init?(_ view: SlackInteraction.View) {
            guard view.callbackID == SlackAlertForm.callbackID else { return nil }
            let values = view.state?.values ?? [:]
            func value(_ block: String) -> String? {
                let field = values[block]?["value"]
                let text = field?.value ?? field?.selectedOption?.value
                return text.flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 }
            }
            struct Metadata: Decodable {
                var channel_id: String?
                var channel_name: String?
            }
            let metadata = view.privateMetadata.flatMap { try? JSONDecoder().decode(Metadata.self, from: Data($0.utf8)) }
            project = value("project")
            title = value("title")
            description = value("description")
            level = value("level").flatMap(Level.init(name:))
            channelID = metadata?.channel_id ?? ""
            channelName = metadata?.channel_name ?? ""
            errors = [:]
            if project == nil { errors["project"] = "Choose a project." }
            if title == nil { errors["title"] = "Give the alert a title." }
            if level == nil { errors["level"] = "Choose a level." }
        }
    }
}
