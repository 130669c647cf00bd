/// A slash command as Slack and Mattermost post it (a form): who typed what, where.
public struct SlashCommandRequest: Sendable {
    public var teamID: String
    public var userID: String
    public var userName: String
    public var channelID: String
    public var channelName: String
    public var text: String
    /// Slack's handle for opening a modal in answer.
    public var triggerID: String

    /// Reads the form's fields; a missing field reads as empty.
    public init(form: [String: String]) {
        teamID = form["team_id"] ?? ""
        userID = form["user_id"] ?? ""
        userName = form["user_name"] ?? ""
        channelID = form["channel_id"] ?? ""
        channelName = form["channel_name"] ?? ""
        text = form["text"] ?? ""
        triggerID = form["trigger_id"] ?? ""
    }

    /// What the text asks for.
    public var command: ChatCommand { ChatCommand(text: text) }
}
