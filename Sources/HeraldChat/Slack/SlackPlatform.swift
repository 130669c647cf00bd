import Foundation
import HeraldConfig
import HeraldCore
import HeraldHTTP

/// A Slack workspace as a place to post: Block Kit messages through the Web API with the workspace's bot
/// token. Slack takes channel names and answers with the id, so no lookup is needed before the first post.
public struct SlackPlatform: ChatPlatform {
    public let workspace: Config.SlackWorkspace
    public let client: SlackClient

    public var kind: DeliveryKind { .slack }
    public var target: String { workspace.name }
    public var fallbackChannel: String? { workspace.fallbackChannel }

    /// Slack's answers to a thread reply whose first message is gone.
    static let goneParentCodes: Set<String> = [ChatFailure.Code.threadNotFound, ChatFailure.Code.messageNotFound]

    public init(workspace: Config.SlackWorkspace, http: HTTPClient) {
        self.workspace = workspace
        client = SlackClient(workspace: workspace, http: http)
    }

    static func platforms(config: Config, context: PlatformContext) -> [any ChatPlatform] {
        (config.slack?.workspaces ?? []).map { SlackPlatform(workspace: $0, http: context.http) }
    }

    public func post(_ alert: OutgoingAlert, to address: String?) async throws(ChatFailure) -> PostedMessage? {
        guard let address else {
            throw .permanent(code: ChatFailure.Code.noChannel, detail: "the delivery names no channel")
        }
        let posted = try await client.postMessage(.alert(alert.alert), channel: address)
        return PostedMessage(channelID: posted.channel, ref: posted.ts)
    }

    public func reply(_ alert: AlertMessage, under parent: PostedMessage) async throws(ChatFailure) -> PostedMessage {
        let posted = try await client.postMessage(.reply(alert), channel: parent.channelID, threadTS: parent.ref)
        return PostedMessage(channelID: posted.channel, ref: posted.ts)
    }

    public func update(_ message: PostedMessage, to alert: AlertMessage) async throws(ChatFailure) {
        try await client.update(.alert(alert), channel: message.channelID, ts: message.ref)
    }

    public func note(_ text: String, under parent: PostedMessage) async throws(ChatFailure) -> PostedMessage {
        let posted = try await client.postMessage(.note(text), channel: parent.channelID, threadTS: parent.ref)
        return PostedMessage(channelID: posted.channel, ref: posted.ts)
    }

    public func isGoneParent(_ failure: ChatFailure) -> Bool {
        failure.code.map(Self.goneParentCodes.contains) ?? false
    }

    public func scope(for purpose: DeliveryPurpose) -> RateLimitScope {
        RateLimitScope(kind: kind, target: target, method: purpose == .update ? "chat.update" : "chat.postMessage")
    }

    public func testConnection(channel: String?, text: String) async throws(ConnectionTestProblem) -> ConnectionReport {
        guard let channel = channel ?? workspace.fallbackChannel else { throw .needsChannel(target) }
        let message = SlackMessage(
            text: text, blocks: [["type": "section", "text": ["type": "mrkdwn", "text": ":white_check_mark: " + text]]])
        let exchange = await ConnectionReport.Exchange.capture("POST \(workspace.apiURL)/chat.postMessage") {
            try await client.send("chat.postMessage", body: message.postBody(channel: channel))
        }
        let ok = exchange.status == 200 && jsonObject(Array(exchange.body.utf8))?["ok"] as? Bool == true
        return ConnectionReport(kind: kind, target: target, exchanges: [exchange], succeeded: ok)
    }
}
