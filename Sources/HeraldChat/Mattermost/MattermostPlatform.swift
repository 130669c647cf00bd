import Foundation
import HeraldConfig
import HeraldCore
import HeraldHTTP

/// A Mattermost connector as a place to post: through the bot REST API when it has a token (posts can then
/// be threaded and updated, channels are looked up by name once), else through its incoming webhook, which
/// posts by channel name and gives nothing back.
public struct MattermostPlatform: ChatPlatform {
    public let connector: Config.MattermostConnector
    public let client: MattermostClient
    private let context: PlatformContext

    public var kind: DeliveryKind { .mattermost }
    public var target: String { connector.name }
    public var fallbackChannel: String? { connector.fallbackChannel }

    public init(connector: Config.MattermostConnector, context: PlatformContext) {
        self.connector = connector
        self.context = context
        client = MattermostClient(connector: connector, http: context.http)
    }

    static func platforms(config: Config, context: PlatformContext) -> [any ChatPlatform] {
        config.mattermost.map { MattermostPlatform(connector: $0, context: context) }
    }

    /// Where Mattermost sends button clicks.
    public var actionsURL: String { context.publicURL + "/mattermost/actions" }

    /// The alert as a post with Herald's signed buttons; a post through the incoming webhook has none, as a
    /// click on it could not be bound to a post Herald knows.
    public func message(_ alert: AlertMessage) -> MattermostMessage {
        .alert(alert, actionsURL: actionsURL, signer: client.usesBotAPI ? signer : nil, connector: connector.name)
    }

    /// The signer of this connector's buttons, with its configured lifetime.
    public var signer: ButtonSigner { context.signer.lasting(connector.buttonLifetime) }

    public func lookUpChannel(_ name: String) async throws(ChatFailure) -> String {
        guard client.usesBotAPI else { return name }
        return try await client.channelID(named: name)
    }

    public func post(_ alert: OutgoingAlert, to address: String?) async throws(ChatFailure) -> PostedMessage? {
        guard client.usesBotAPI else {
            try await client.postWebhook(message(alert.alert), channel: address)
            return nil
        }
        guard let address else {
            throw .permanent(code: ChatFailure.Code.noChannel, detail: "the delivery names no channel")
        }
        let id = try await client.createPost(message(alert.alert), channelID: address)
        return PostedMessage(channelID: address, ref: id)
    }

    public func reply(_ alert: AlertMessage, under parent: PostedMessage) async throws(ChatFailure) -> PostedMessage {
        let id = try await client.createPost(.reply(alert), channelID: parent.channelID, rootID: parent.ref)
        return PostedMessage(channelID: parent.channelID, ref: id)
    }

    public func update(_ message: PostedMessage, to alert: AlertMessage) async throws(ChatFailure) {
        try await client.patchPost(id: message.ref, self.message(alert))
    }

    public func note(_ text: String, under parent: PostedMessage) async throws(ChatFailure) -> PostedMessage {
        let id = try await client.createPost(.note(text), channelID: parent.channelID, rootID: parent.ref)
        return PostedMessage(channelID: parent.channelID, ref: id)
    }

    /// Mattermost refuses a reply to a deleted post with 400 or 404.
    public func isGoneParent(_ failure: ChatFailure) -> Bool {
        failure.code == ChatFailure.Code.http(400) || failure.code == ChatFailure.Code.http(404)
    }

    public func scope(for purpose: DeliveryPurpose) -> RateLimitScope {
        RateLimitScope(kind: kind, target: target, method: purpose == .update ? "patch" : "posts")
    }

    public func testConnection(channel: String?, text: String) async throws(ConnectionTestProblem) -> ConnectionReport {
        let message = MattermostMessage(text: text, attachment: ["fallback": text, "color": "#2EB67D", "text": text])
        guard client.usesBotAPI else {
            let exchange = await ConnectionReport.Exchange.capture("POST <webhook_url>") {
                try await client.sendWebhook(message, channel: channel)
            }
            return report([exchange], succeeded: exchange.isSuccess)
        }
        guard let channel = channel ?? connector.fallbackChannel else { throw .needsChannel(target) }
        var exchanges: [ConnectionReport.Exchange] = []
        var channelID = MattermostClient.channelName(channel)
        if !MattermostClient.isChannelID(channelID) {
            let path = "/api/v4/teams/name/\(connector.team ?? "<no team configured>")/channels/name/\(channelID)"
            let lookup = await ConnectionReport.Exchange.capture("GET \(connector.url)\(path)") {
                try await client.send("GET", path, body: [])
            }
            exchanges.append(lookup)
            guard lookup.isSuccess, let id = jsonObject(Array(lookup.body.utf8))?["id"] as? String else {
                return report(exchanges)
            }
            channelID = id
        }
        let post = await ConnectionReport.Exchange.capture("POST \(connector.url)/api/v4/posts") {
            try await client.send("POST", "/api/v4/posts", body: message.postBody(channelID: channelID))
        }
        exchanges.append(post)
        return report(exchanges, succeeded: post.isSuccess)
    }

    private func report(_ exchanges: [ConnectionReport.Exchange], succeeded: Bool = false) -> ConnectionReport {
        ConnectionReport(kind: kind, target: target, exchanges: exchanges, succeeded: succeeded)
    }
}
