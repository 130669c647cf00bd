/// Where a delivery goes: a chat platform's channel, or a webhook.
///
/// The raw values are what rule files, the outbox table and the admin API spell; everything else uses the
/// cases.
public enum DeliveryKind: String, Sendable, Hashable, CaseIterable, Comparable {
    case slack, mattermost, webhook

    /// Whether deliveries of this kind post into channels (and so have lanes per channel, pacing and
    /// message handles), as opposed to one endpoint per target.
    public var hasChannels: Bool { self != .webhook }

    /// How people name the kind of target: "Slack workspace", "Mattermost connector", "webhook".
    public var targetNoun: String {
        switch self {
        case .slack: "Slack workspace"
        case .mattermost: "Mattermost connector"
        case .webhook: "webhook"
        }
    }

    public static func < (lhs: DeliveryKind, rhs: DeliveryKind) -> Bool { lhs.rawValue < rhs.rawValue }
}
