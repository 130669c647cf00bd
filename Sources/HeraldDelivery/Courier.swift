import Foundation
import HeraldChat
import HeraldConfig
import HeraldCore
import HeraldHTTP
import HeraldStore
import Synchronization

/// Makes one attempt at one delivery: renders the message for its platform, finds the channel, posts (or
/// replies in the issue's thread and brings the first message up to date), and says how it went.
///
/// It holds no queue and decides nothing about retries; the `Dispatcher` does. `herald notify-test` and
/// `herald test-connection` use it directly, so what they send is what delivery sends.
public struct Courier: Sendable {
    public let config: Config
    private let http: HTTPClient
    private let signer: ButtonSigner
    /// Channel ids already known; `Dispatcher` fills it from the database before sending.
    public let channels: ChannelCache

    /// How an attempt ended.
    public enum Result: Sendable {
        /// Sent; chat messages have a handle. `note` records a side step that failed without failing the
        /// delivery, such as bringing the first message's counts up to date.
        case delivered(MessageHandle?, resolved: ResolvedChannel?, note: String?)
        /// Not sent. `scope` names what a 429 blocks: one method of one target.
        case failed(ChatFailure, scope: String)
    }

    public init(config: Config, http: HTTPClient, signer: ButtonSigner, channels: ChannelCache = ChannelCache()) {
        self.config = config
        self.http = http
        self.signer = signer
        self.channels = channels
    }

    /// Slack's answers to a thread reply whose first message is gone: a new first message is posted instead.
    static let goneParentCodes: Set<String> = ["thread_not_found", "message_not_found"]

    /// Where Mattermost sends button clicks.
    public var mattermostActionsURL: String { config.server.publicURL + "/mattermost/actions" }

    /// The alert one delivery shows; an update shows the action that caused it.
    public func alert(for delivery: PendingDelivery, isTest: Bool = false) -> AlertMessage {
        let event = delivery.eventPayload.flatMap { try? JSONDecoder().decode(Event.self, from: $0) }
        return AlertMessage(
            issue: delivery.issue, event: event, eventID: delivery.eventID, project: delivery.projectSlug,
            rules: delivery.rules, tags: delivery.tags, notes: delivery.notes, publicURL: config.server.publicURL,
            assignees: config.users.filter { $0.role != .stakeholder },
            stateNote: delivery.purpose == "update" ? delivery.note : nil, isTest: isTest)
    }

    /// The rate-limit scope of a delivery's first request: what a 429 on it blocks.
    public static func scope(kind: String, target: String, purpose: String = "alert") -> String {
        switch (kind, purpose) {
        case ("slack", "update"): "slack:\(target):chat.update"
        case ("slack", _): "slack:\(target):chat.postMessage"
        case ("mattermost", "update"): "mattermost:\(target):patch"
        case ("mattermost", _): "mattermost:\(target):posts"
        default: "\(kind):\(target)"
        }
    }

    /// One attempt. `parent` is the issue's first message in this channel; with it the message becomes a
    /// thread reply and the parent is updated.
    public func deliver(_ delivery: PendingDelivery, parent: MessageHandle?, isTest: Bool = false) async -> Result {
        let alert = alert(for: delivery, isTest: isTest)
        let scope = Self.scope(kind: delivery.kind, target: delivery.target, purpose: delivery.purpose)
        do throws(ChatFailure) {
            if delivery.purpose != "alert" { return try await followUp(delivery, alert: alert) }
            switch delivery.kind {
            case "slack": return try await slack(delivery, alert: alert, parent: parent)
            case "mattermost": return try await mattermost(delivery, alert: alert, parent: parent)
            case "webhook":
                guard let webhook = config.webhook(named: delivery.target) else {
                    throw ChatFailure.permanent(code: "unknown_target", detail: "webhook '\(delivery.target)' is not in the config")
                }
                let body = WebhookBody.make(alert, eventPayload: delivery.eventPayload, delivery: delivery.id)
                try await WebhookClient(webhook: webhook, http: http).post(body: body, delivery: delivery.id)
                return .delivered(nil, resolved: nil, note: nil)
            default:
                throw ChatFailure.permanent(code: "unknown_kind", detail: "no delivery kind '\(delivery.kind)'")
            }
        } catch {
            return .failed(error, scope: scope)
        }
    }

    // MARK: Targets

    private func slackClient(for delivery: PendingDelivery) throws(ChatFailure) -> SlackClient {
        guard let workspace = config.slackWorkspace(named: delivery.target) else {
            throw .permanent(code: "unknown_target", detail: "Slack workspace '\(delivery.target)' is not in the config")
        }
        return SlackClient(workspace: workspace, http: http)
    }

    private func mattermostClient(for delivery: PendingDelivery) throws(ChatFailure) -> MattermostClient {
        guard let connector = config.mattermostConnector(named: delivery.target) else {
            throw .permanent(code: "unknown_target", detail: "Mattermost connector '\(delivery.target)' is not in the config")
        }
        return MattermostClient(connector: connector, http: http)
    }

    // MARK: Updates and notes

    /// Rewrites a message to the issue's new state (`update`), or replies in its thread with what someone did
    /// (`note`).
    private func followUp(_ delivery: PendingDelivery, alert: AlertMessage) async throws(ChatFailure) -> Result {
        guard let subject = delivery.subject else {
            throw .permanent(code: "message_unknown", detail: "the message to \(delivery.purpose) is no longer recorded")
        }
        let text = delivery.note ?? ""
        switch delivery.kind {
        case "slack":
            let client = try slackClient(for: delivery)
            let workspace = client.workspace
            if delivery.purpose == "update" {
                try await client.update(.alert(alert), channel: subject.channelID, ts: subject.ref)
                return .delivered(nil, resolved: nil, note: nil)
            }
            let posted = try await client.postMessage(.note(text), channel: subject.channelID, threadTS: subject.ref)
            return .delivered(
                MessageHandle(issueID: delivery.issue.id, kind: "slack", target: workspace.name, channel: subject.channel,
                              channelID: posted.channel, ref: posted.ts, threadRef: subject.ref),
                resolved: nil, note: nil)
        case "mattermost":
            let client = try mattermostClient(for: delivery)
            let connector = client.connector
            if delivery.purpose == "update" {
                try await client.patchPost(
                    id: subject.ref,
                    .alert(alert, actionsURL: mattermostActionsURL, signer: signer, connector: connector.name))
                return .delivered(nil, resolved: nil, note: nil)
            }
            let id = try await client.createPost(.note(text), channelID: subject.channelID, rootID: subject.ref)
            return .delivered(
                MessageHandle(issueID: delivery.issue.id, kind: "mattermost", target: connector.name,
                              channel: subject.channel, channelID: subject.channelID, ref: id, threadRef: subject.ref),
                resolved: nil, note: nil)
        default:
            throw .permanent(code: "unknown_kind", detail: "\(delivery.kind) messages cannot be updated")
        }
    }

    // MARK: Slack

    private func slack(_ delivery: PendingDelivery, alert: AlertMessage, parent: MessageHandle?)
        async throws(ChatFailure) -> Result
    {
        let client = try slackClient(for: delivery)
        let workspace = client.workspace
        let requested = delivery.channel ?? ""
        if let parent {
            do throws(ChatFailure) {
                let posted = try await client.postMessage(.reply(alert), channel: parent.channelID, threadTS: parent.ref)
                var note: String?
                do {
                    try await client.update(.alert(alert), channel: parent.channelID, ts: parent.ref)
                } catch {
                    note = "the first message's counts were not updated: \(error)"
                }
                let handle = MessageHandle(
                    issueID: delivery.issue.id, kind: "slack", target: workspace.name, channel: requested,
                    channelID: posted.channel, ref: posted.ts, threadRef: parent.ref)
                return .delivered(handle, resolved: nil, note: note)
            } catch {
                // The first message was deleted (or its channel archived and left): start afresh with a new one.
                guard let code = error.code, Self.goneParentCodes.contains(code) else { throw error }
            }
        }
        let message = SlackMessage.alert(alert)
        let channel = try chatChannel(delivery, fallback: workspace.fallbackChannel)
        var posted: SlackClient.Posted
        var resolvedName: String? = channel.name
        do throws(ChatFailure) {
            let address = channels.id(kind: "slack", target: workspace.name, name: channel.name) ?? channel.name
            posted = try await client.postMessage(message, channel: address)
        } catch {
            // A channel made from a tag may simply not exist: the fallback channel takes the message.
            guard error.code == "channel_not_found", delivery.channelTemplate != nil, !channel.isFallback,
                let fallback = workspace.fallbackChannel
            else { throw error }
            posted = try await client.postMessage(message, channel: fallback)
            resolvedName = fallback
        }
        let resolved = resolvedName.flatMap { name -> ResolvedChannel? in
            guard name != posted.channel else { return nil }
            channels.remember(kind: "slack", target: workspace.name, name: name, id: posted.channel)
            return ResolvedChannel(kind: "slack", target: workspace.name, name: name, id: posted.channel)
        }
        let handle = MessageHandle(
            issueID: delivery.issue.id, kind: "slack", target: workspace.name, channel: requested,
            channelID: posted.channel, ref: posted.ts)
        return .delivered(handle, resolved: resolved, note: nil)
    }

    // MARK: Mattermost

    private func mattermost(_ delivery: PendingDelivery, alert: AlertMessage, parent: MessageHandle?)
        async throws(ChatFailure) -> Result
    {
        let client = try mattermostClient(for: delivery)
        let connector = client.connector
        let requested = delivery.channel ?? ""
        guard client.usesBotAPI else {
            // An incoming webhook posts by channel name and returns no post id: no threads, no updates.
            let channel = try chatChannel(delivery, fallback: connector.fallbackChannel)
            let message = MattermostMessage.alert(
                alert, actionsURL: mattermostActionsURL, signer: signer, connector: connector.name)
            try await client.postWebhook(message, channel: channel.name)
            return .delivered(nil, resolved: nil, note: nil)
        }
        if let parent {
            do throws(ChatFailure) {
                let id = try await client.createPost(.reply(alert), channelID: parent.channelID, rootID: parent.ref)
                var note: String?
                do {
                    try await client.patchPost(
                        id: parent.ref,
                        .alert(alert, actionsURL: mattermostActionsURL, signer: signer, connector: connector.name))
                } catch {
                    note = "the first post's counts were not updated: \(error)"
                }
                let handle = MessageHandle(
                    issueID: delivery.issue.id, kind: "mattermost", target: connector.name, channel: requested,
                    channelID: parent.channelID, ref: id, threadRef: parent.ref)
                return .delivered(handle, resolved: nil, note: note)
            } catch {
                // Mattermost refuses a reply to a deleted post (400 or 404): start afresh with a new post.
                guard let code = error.code, ["http_400", "http_404"].contains(code) else { throw error }
            }
        }
        let channel = try chatChannel(delivery, fallback: connector.fallbackChannel)
        var resolved: ResolvedChannel?
        let channelID: String
        do throws(ChatFailure) {
            channelID = try await mattermostChannel(channel.name, client: client, resolved: &resolved)
        } catch {
            guard error.code == "channel_not_found", delivery.channelTemplate != nil, !channel.isFallback,
                let fallback = connector.fallbackChannel
            else { throw error }
            channelID = try await mattermostChannel(fallback, client: client, resolved: &resolved)
        }
        let message = MattermostMessage.alert(
            alert, actionsURL: mattermostActionsURL, signer: signer, connector: connector.name)
        let id = try await client.createPost(message, channelID: channelID)
        let handle = MessageHandle(
            issueID: delivery.issue.id, kind: "mattermost", target: connector.name, channel: requested,
            channelID: channelID, ref: id)
        return .delivered(handle, resolved: resolved, note: nil)
    }

    /// A channel's id, from the cache or looked up once.
    private func mattermostChannel(_ name: String, client: MattermostClient, resolved: inout ResolvedChannel?)
        async throws(ChatFailure) -> String
    {
        let target = client.connector.name
        if let id = channels.id(kind: "mattermost", target: target, name: name) { return id }
        let id = try await client.channelID(named: name)
        if id != name {
            channels.remember(kind: "mattermost", target: target, name: name, id: id)
            resolved = ResolvedChannel(kind: "mattermost", target: target, name: name, id: id)
        }
        return id
    }

    /// The channel to post to: the rendered one, or the fallback when the template could not be rendered.
    private func chatChannel(_ delivery: PendingDelivery, fallback: String?) throws(ChatFailure)
        -> (name: String, isFallback: Bool)
    {
        if let problem = delivery.problem {
            guard let fallback else {
                throw .permanent(code: "channel_unrenderable", detail: "\(problem), and '\(delivery.target)' has no fallback_channel")
            }
            return (fallback, true)
        }
        guard let channel = delivery.channel, !channel.isEmpty else {
            throw .permanent(code: "no_channel", detail: "the delivery names no channel")
        }
        return (channel, false)
    }
}

/// Channel names already resolved to ids, per kind and target: filled from the database at start and as
/// posts reveal ids, so each name is looked up once.
public final class ChannelCache: Sendable {
    private let ids = Mutex<[String: String]>([:])

    public init() {}

    public func id(kind: String, target: String, name: String) -> String? {
        ids.withLock { $0["\(kind)\u{1F}\(target)\u{1F}\(name)"] }
    }

    public func remember(kind: String, target: String, name: String, id: String) {
        ids.withLock { $0["\(kind)\u{1F}\(target)\u{1F}\(name)"] = id }
    }

    /// Loads what the database knows.
    public func load(from store: Store) async throws {
        for kind in ["slack", "mattermost"] {
            for (target, names) in try await store.resolvedChannels(kind: kind) {
                for (name, id) in names { remember(kind: kind, target: target, name: name, id: id) }
            }
        }
    }
}
