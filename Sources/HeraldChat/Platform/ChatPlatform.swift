import Foundation
import HeraldCore

/// One place Herald sends messages to: a Slack workspace, a Mattermost connector, a webhook.
///
/// The `Courier` drives every platform the same way (find the channel, post or reply in the thread, bring
/// the first message up to date, fall back when a channel does not exist); a platform knows only its own
/// API. Adding a platform is a folder with a type that conforms to this protocol, its config section, a line
/// in `ChatPlatforms`, and a route file for its callbacks (docs/architecture.md lists the steps).
public protocol ChatPlatform: Sendable {
    var kind: DeliveryKind { get }
    /// The workspace, connector or webhook, by its name in the config.
    var target: String { get }
    /// Where a message goes when its channel, made from a tag, does not exist or cannot be made.
    var fallbackChannel: String? { get }

    /// The address to post to for a channel name the cache does not know: an id looked up through the
    /// platform's API, or the name itself where the platform takes names and answers with the id.
    func lookUpChannel(_ name: String) async throws(ChatFailure) -> String

    /// Posts a new alert to `address` (nil for platforms without channels). The answer is the message's
    /// place, or nil where the platform gives none back (a webhook, a Mattermost incoming webhook).
    func post(_ alert: OutgoingAlert, to address: String?) async throws(ChatFailure) -> PostedMessage?

    /// Replies to `parent` in its thread with a repeat firing.
    func reply(_ alert: AlertMessage, under parent: PostedMessage) async throws(ChatFailure) -> PostedMessage

    /// Rewrites a message Herald posted to show the issue as `alert` has it.
    func update(_ message: PostedMessage, to alert: AlertMessage) async throws(ChatFailure)

    /// Replies to `parent` in its thread with a line of text.
    func note(_ text: String, under parent: PostedMessage) async throws(ChatFailure) -> PostedMessage

    /// Whether a failed reply means the first message is gone, so a new first message should be posted.
    func isGoneParent(_ failure: ChatFailure) -> Bool

    /// What a 429 on the first request for a delivery of this purpose blocks.
    func scope(for purpose: DeliveryPurpose) -> RateLimitScope

    /// Sends `text` as a test message and reports every request with the platform's exact answer.
    func testConnection(channel: String?, text: String) async throws(ConnectionTestProblem) -> ConnectionReport
}

extension ChatPlatform {
    /// Platforms without threads or message handles refuse what needs them.
    public func reply(_ alert: AlertMessage, under parent: PostedMessage) async throws(ChatFailure) -> PostedMessage {
        throw unsupported("reply in a thread")
    }

    public func update(_ message: PostedMessage, to alert: AlertMessage) async throws(ChatFailure) {
        throw unsupported("update a message")
    }

    public func note(_ text: String, under parent: PostedMessage) async throws(ChatFailure) -> PostedMessage {
        throw unsupported("reply in a thread")
    }

    public func isGoneParent(_ failure: ChatFailure) -> Bool { false }

    public func lookUpChannel(_ name: String) async throws(ChatFailure) -> String { name }

    public func scope(for purpose: DeliveryPurpose) -> RateLimitScope {
        RateLimitScope(kind: kind, target: target, method: "")
    }

    private func unsupported(_ what: String) -> ChatFailure {
        .permanent(code: ChatFailure.Code.unsupported, detail: "a \(kind.targetNoun) cannot \(what)")
    }
}

/// Where a message Herald posted is: what replies and updates name.
public struct PostedMessage: Sendable, Hashable {
    /// The channel's id, whatever name the message was posted to.
    public var channelID: String
    /// Slack's `ts`, Mattermost's post id.
    public var ref: String

    public init(channelID: String, ref: String) {
        self.channelID = channelID
        self.ref = ref
    }
}

/// An alert on its way out, with what a webhook sends beside the message.
public struct OutgoingAlert: Sendable {
    public var alert: AlertMessage
    /// The event as received, for webhooks.
    public var eventPayload: Data?
    /// The outbox row's id; webhooks send it so receivers can drop repeats.
    public var deliveryID: Int64

    public init(alert: AlertMessage, eventPayload: Data?, deliveryID: Int64) {
        self.alert = alert
        self.eventPayload = eventPayload
        self.deliveryID = deliveryID
    }
}

/// What an HTTP 429 blocks: one method of one target, so a rate-limited `chat.update` does not hold up
/// `chat.postMessage`, and one workspace's limit does not hold up another's.
public struct RateLimitScope: Sendable, Hashable, CustomStringConvertible {
    public var kind: DeliveryKind
    public var target: String
    /// The API method; empty where the whole target is one endpoint.
    public var method: String

    public init(kind: DeliveryKind, target: String, method: String) {
        self.kind = kind
        self.target = target
        self.method = method
    }

    public var description: String { method.isEmpty ? "\(kind.rawValue):\(target)" : "\(kind.rawValue):\(target):\(method)" }
}
