import HeraldCore

/// A chat message Herald posted: what later updates and thread replies need.
public struct MessageHandle: Sendable, Hashable {
    public var issueID: Int64
    public var kind: DeliveryKind
    /// The Slack workspace or Mattermost connector.
    public var target: String
    /// The channel as the rule named it.
    public var channel: String
    /// The channel id the message is in (a fallback channel's when the named one did not exist).
    public var channelID: String
    /// Slack's `ts`, Mattermost's post id.
    public var ref: String
    /// The parent message's ref when this one is a thread reply.
    public var threadRef: String?

    public init(
        issueID: Int64, kind: DeliveryKind, target: String, channel: String, channelID: String, ref: String,
        threadRef: String? = nil
    ) {
        self.issueID = issueID
        self.kind = kind
        self.target = target
        self.channel = channel
        self.channelID = channelID
        self.ref = ref
        self.threadRef = threadRef
    }
}

/// A channel name and the id it stands for in one workspace or connector.
public struct ResolvedChannel: Sendable, Hashable {
    public var kind: DeliveryKind
    public var target: String
    public var name: String
    public var id: String

    public init(kind: DeliveryKind, target: String, name: String, id: String) {
        self.kind = kind
        self.target = target
        self.name = name
        self.id = id
    }
}
