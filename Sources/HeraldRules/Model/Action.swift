import HeraldCore

/// Where a rule sends its notification: a `then` entry.
public enum Action: Hashable, Sendable {
    case slack(ChatAction)
    case mattermost(ChatAction)
    case webhook(name: String)

    public static let names = DeliveryKind.allCases.map(\.rawValue)

    public var kind: DeliveryKind {
        switch self {
        case .slack: .slack
        case .mattermost: .mattermost
        case .webhook: .webhook
        }
    }
}

/// A post to channels of one Slack workspace or Mattermost connector.
public struct ChatAction: Hashable, Sendable {
    /// The Slack workspace or Mattermost connector, by its name in the config.
    public var target: String
    public var channels: [ChannelTemplate]
    /// Tag keys shown as fields in the message.
    public var tags: [String]
    public var notes: String?

    public init(target: String, channels: [ChannelTemplate], tags: [String] = [], notes: String? = nil) {
        self.target = target
        self.channels = channels
        self.tags = tags
        self.notes = notes
    }
}
