import Foundation
import HeraldChat
import HeraldConfig
import HeraldCore
import HeraldHTTP
import HeraldStore

/// Makes one attempt at one delivery: renders the message, finds the channel, posts (or replies in the
/// issue's thread and brings the first message up to date), and says how it went. What differs between
/// Slack, Mattermost and webhooks is behind `ChatPlatform`; this is the flow they share.
///
/// It holds no queue and decides nothing about retries; the `Dispatcher` does. `herald notify-test` and
/// `herald test-connection` use it directly, so what they send is what delivery sends.
public struct Courier: Sendable {
    public let config: Config
    public let platforms: ChatPlatforms
    /// Channel ids already known; filled from the database before sending.
    public let channels: ChannelCache

    /// How an attempt ended.
    public enum Result: Sendable {
        /// Sent; chat messages have a handle. `note` records a side step that failed without failing the
        /// delivery, such as bringing the first message's counts up to date.
        case delivered(MessageHandle?, resolved: ResolvedChannel?, note: String?)
        /// Not sent. `scope` names what a 429 blocks: one method of one target.
        case failed(ChatFailure, scope: RateLimitScope)
    }

    public init(config: Config, http: HTTPClient, signer: ButtonSigner, channels: ChannelCache = ChannelCache()) {
        self.config = config
        self.platforms = ChatPlatforms(config: config, http: http, signer: signer)
        self.channels = channels
    }

    /// The alert one delivery shows; an update shows the action that caused it.
    public func alert(for delivery: PendingDelivery, isTest: Bool = false) -> AlertMessage {
        let event = delivery.eventPayload.flatMap { try? JSONDecoder().decode(Event.self, from: $0) }
        return AlertMessage(
            issue: delivery.issue, event: event, eventID: delivery.record.eventID, project: delivery.projectSlug,
            rules: delivery.record.rules, tags: delivery.record.tags, notes: delivery.record.notes,
            publicURL: config.server.publicURL, assignees: config.users.filter { $0.role != .stakeholder },
            stateNote: delivery.purpose == .update ? delivery.note : nil, isTest: isTest)
    }

    /// The rate-limit scope of a delivery's first request: what a 429 on it blocks.
    public func scope(of delivery: PendingDelivery) -> RateLimitScope {
        platforms.platform(kind: delivery.kind, target: delivery.target)?.scope(for: delivery.purpose)
            ?? RateLimitScope(kind: delivery.kind, target: delivery.target, method: "")
    }

    /// Loads the channel ids the database knows, for every kind of platform that has channels.
    public func loadChannels(from store: Store) async throws {
        for kind in platforms.channelKinds {
            for (target, names) in try await store.resolvedChannels(kind: kind) {
                for (name, id) in names { channels.remember(kind: kind, target: target, name: name, id: id) }
            }
        }
    }

    /// One attempt. `parent` is the issue's first message in this channel; with it the message becomes a
    /// thread reply and the parent is updated.
    public func deliver(_ delivery: PendingDelivery, parent: MessageHandle?, isTest: Bool = false) async -> Result {
        let scope = scope(of: delivery)
        do throws(ChatFailure) {
            guard let platform = platforms.platform(kind: delivery.kind, target: delivery.target) else {
                throw ChatFailure.permanent(
                    code: ChatFailure.Code.unknownTarget,
                    detail: "\(delivery.kind.targetNoun) '\(delivery.target)' is not in the config")
            }
            let alert = alert(for: delivery, isTest: isTest)
            if delivery.purpose.followsUp { return try await followUp(delivery, alert: alert, on: platform) }
            if let parent, let reply = try await reply(delivery, alert: alert, under: parent, on: platform) {
                return reply
            }
            return try await post(delivery, alert: alert, on: platform)
        } catch {
            return .failed(error, scope: scope)
        }
    }

    // MARK: Steps

    /// Replies in the first message's thread and brings its counts up to date; nil when the first message is
    /// gone, so a new one should be posted.
    private func reply(_ delivery: PendingDelivery, alert: AlertMessage, under parent: MessageHandle,
                       on platform: any ChatPlatform) async throws(ChatFailure) -> Result?
    {
        let first = PostedMessage(channelID: parent.channelID, ref: parent.ref)
        let posted: PostedMessage
        do throws(ChatFailure) {
            posted = try await platform.reply(alert, under: first)
        } catch {
            // The first message was deleted (or its channel archived and left): start afresh with a new one.
            guard platform.isGoneParent(error) else { throw error }
            return nil
        }
        var note: String?
        do {
            try await platform.update(first, to: alert)
        } catch {
            note = "the first message's counts were not updated: \(error)"
        }
        return .delivered(handle(delivery, posted, threadRef: parent.ref), resolved: nil, note: note)
    }

    /// Posts a new first message, to the fallback channel when a channel made from a tag does not exist.
    private func post(_ delivery: PendingDelivery, alert: AlertMessage, on platform: any ChatPlatform)
        async throws(ChatFailure) -> Result
    {
        let outgoing = OutgoingAlert(alert: alert, eventPayload: delivery.eventPayload, deliveryID: delivery.id)
        guard delivery.kind.hasChannels else {
            _ = try await platform.post(outgoing, to: nil)
            return .delivered(nil, resolved: nil, note: nil)
        }
        let channel = try chatChannel(delivery, fallback: platform.fallbackChannel)
        var name = channel.name
        var posted: PostedMessage?
        do throws(ChatFailure) {
            posted = try await platform.post(outgoing, to: try await address(of: name, on: platform))
        } catch {
            // A channel made from a tag may simply not exist: the fallback channel takes the message.
            guard error.code == ChatFailure.Code.channelNotFound, delivery.channelTemplate != nil, !channel.isFallback,
                let fallback = platform.fallbackChannel
            else { throw error }
            name = fallback
            posted = try await platform.post(outgoing, to: try await address(of: name, on: platform))
        }
        guard let posted else { return .delivered(nil, resolved: nil, note: nil) }
        return .delivered(handle(delivery, posted), resolved: learn(name, id: posted.channelID, on: platform), note: nil)
    }

    /// Rewrites a message to the issue's new state (`update`), or replies in its thread with what someone did
    /// (`note`).
    private func followUp(_ delivery: PendingDelivery, alert: AlertMessage, on platform: any ChatPlatform)
        async throws(ChatFailure) -> Result
    {
        guard let subject = delivery.subject else {
            throw .permanent(
                code: ChatFailure.Code.messageUnknown,
                detail: "the message to \(delivery.purpose.rawValue) is no longer recorded")
        }
        let message = PostedMessage(channelID: subject.channelID, ref: subject.ref)
        switch delivery.purpose {
        case .update:
            try await platform.update(message, to: alert)
            return .delivered(nil, resolved: nil, note: nil)
        case .note, .alert:
            let posted = try await platform.note(delivery.note ?? "", under: message)
            var handle = handle(delivery, posted, threadRef: subject.ref)
            handle.channel = subject.channel
            return .delivered(handle, resolved: nil, note: nil)
        }
    }

    // MARK: Channels

    /// Where to post for a channel name: its id when known, else what the platform makes of the name.
    private func address(of name: String, on platform: any ChatPlatform) async throws(ChatFailure) -> String {
        if let id = channels.id(kind: platform.kind, target: platform.target, name: name) { return id }
        return try await platform.lookUpChannel(name)
    }

    /// Remembers the id a name turned out to stand for; the resolution to record when it is news.
    private func learn(_ name: String, id: String, on platform: any ChatPlatform) -> ResolvedChannel? {
        guard name != id, channels.id(kind: platform.kind, target: platform.target, name: name) != id else { return nil }
        channels.remember(kind: platform.kind, target: platform.target, name: name, id: id)
        return ResolvedChannel(kind: platform.kind, target: platform.target, name: name, id: id)
    }

    /// The channel to post to: the rendered one, or the fallback when the template could not be rendered.
    private func chatChannel(_ delivery: PendingDelivery, fallback: String?) throws(ChatFailure)
        -> (name: String, isFallback: Bool)
    {
        if let problem = delivery.problem {
            guard let fallback else {
                throw .permanent(
                    code: ChatFailure.Code.channelUnrenderable,
                    detail: "\(problem), and '\(delivery.target)' has no fallback_channel")
            }
            return (fallback, true)
        }
        guard let channel = delivery.channel, !channel.isEmpty else {
            throw .permanent(code: ChatFailure.Code.noChannel, detail: "the delivery names no channel")
        }
        return (channel, false)
    }

    private func handle(_ delivery: PendingDelivery, _ posted: PostedMessage, threadRef: String? = nil) -> MessageHandle {
        MessageHandle(
            issueID: delivery.issue.id, kind: delivery.kind, target: delivery.target, channel: delivery.channel ?? "",
            channelID: posted.channelID, ref: posted.ref, threadRef: threadRef)
    }
}
