import Foundation
import HeraldChat
import HeraldConfig
import HeraldCore
import HeraldHTTP
import HeraldRules
import HeraldStore

/// `herald test-connection`: one test message to a Slack workspace, Mattermost connector or webhook, with the
/// platform's exact answer, so an admin sees at once whether a token, a channel or a URL works.
public struct ConnectionTest: Sendable {
    /// One request and its answer as received.
    public struct Exchange: Sendable {
        public var request: String
        public var status: Int?
        public var body: String
        /// The transport error, when there was no answer.
        public var error: String?
    }

    public struct Report: Sendable {
        public var kind: String
        public var target: String
        public var exchanges: [Exchange]
        public var succeeded: Bool
    }

    public enum Problem: Error, CustomStringConvertible {
        case unknownTarget(String, known: [String])
        case ambiguous(String)
        case needsChannel(String)

        public var description: String {
            switch self {
            case .unknownTarget(let name, let known):
                "no Slack workspace, Mattermost connector or webhook named '\(name)'; the config has: \(known.joined(separator: ", "))"
            case .ambiguous(let name):
                "'\(name)' names more than one target; add --kind slack, mattermost or webhook"
            case .needsChannel(let name):
                "'\(name)' has no fallback_channel to post to; give --channel"
            }
        }
    }

    public let config: Config
    private let http: HTTPClient

    public init(config: Config, http: HTTPClient) {
        self.config = config
        self.http = http
    }

    /// Sends the test message. `kind` picks among targets of the same name.
    public func run(target name: String, kind: String? = nil, channel: String? = nil) async throws(Problem) -> Report {
        var kinds: [String] = []
        if config.slackWorkspace(named: name) != nil { kinds.append("slack") }
        if config.mattermostConnector(named: name) != nil { kinds.append("mattermost") }
        if config.webhook(named: name) != nil { kinds.append("webhook") }
        if let kind { kinds = kinds.filter { $0 == kind } }
        guard !kinds.isEmpty else {
            let known = (config.slack?.workspaces.map { "\($0.name) (slack)" } ?? [])
                + config.mattermost.map { "\($0.name) (mattermost)" } + config.webhooks.map { "\($0.name) (webhook)" }
            throw .unknownTarget(name, known: known)
        }
        guard kinds.count == 1 else { throw .ambiguous(name) }
        let text = "Herald can post here: `herald test-connection \(name)` at \(Timestamp.text(Date()))."
        switch kinds[0] {
        case "slack":
            let workspace = config.slackWorkspace(named: name)!
            guard let channel = channel ?? workspace.fallbackChannel else { throw .needsChannel(name) }
            let message = SlackMessage(
                text: text, blocks: [["type": "section", "text": ["type": "mrkdwn", "text": ":white_check_mark: " + text]]])
            let exchange = await exchange("POST \(workspace.apiURL)/chat.postMessage") {
                try await SlackClient(workspace: workspace, http: http).send(
                    "chat.postMessage", body: message.postBody(channel: channel))
            }
            let ok = exchange.status == 200
                && ((try? JSONSerialization.jsonObject(with: Data(exchange.body.utf8))) as? [String: Any])?["ok"] as? Bool == true
            return Report(kind: "slack", target: name, exchanges: [exchange], succeeded: ok)
        case "mattermost":
            let connector = config.mattermostConnector(named: name)!
            let client = MattermostClient(connector: connector, http: http)
            let message = MattermostMessage(text: text, attachment: ["fallback": text, "color": "#2EB67D", "text": text])
            guard client.usesBotAPI else {
                let exchange = await exchange("POST <webhook_url>") {
                    try await http.send(HTTPClient.Request(
                        "POST", connector.webhookURL!.value, headers: [("Content-Type", "application/json")],
                        body: message.webhookBody(channel: channel)))
                }
                return Report(kind: "mattermost", target: name, exchanges: [exchange], succeeded: exchange.isSuccess)
            }
            guard let channel = channel ?? connector.fallbackChannel else { throw .needsChannel(name) }
            var exchanges: [Exchange] = []
            var channelID = MattermostClient.channelName(channel)
            if !MattermostClient.isChannelID(channelID) {
                let path = "/api/v4/teams/name/\(connector.team ?? "<no team configured>")/channels/name/\(channelID)"
                let lookup = await exchange("GET \(connector.url)\(path)") { try await client.send("GET", path, body: []) }
                exchanges.append(lookup)
                guard lookup.isSuccess,
                    let id = ((try? JSONSerialization.jsonObject(with: Data(lookup.body.utf8))) as? [String: Any])?["id"] as? String
                else { return Report(kind: "mattermost", target: name, exchanges: exchanges, succeeded: false) }
                channelID = id
            }
            let post = await exchange("POST \(connector.url)/api/v4/posts") {
                try await client.send("POST", "/api/v4/posts", body: message.postBody(channelID: channelID))
            }
            exchanges.append(post)
            return Report(kind: "mattermost", target: name, exchanges: exchanges, succeeded: post.isSuccess)
        default:
            let webhook = config.webhook(named: name)!
            let body = Array(JSONWriter.text([
                "version": 1, "test": true, "text": text, "delivery_id": 0,
            ] as [String: any Sendable]).utf8)
            let exchange = await exchange("POST \(webhook.url)") {
                try await WebhookClient(webhook: webhook, http: http).send(body: body, delivery: 0)
            }
            return Report(kind: "webhook", target: name, exchanges: [exchange], succeeded: exchange.isSuccess)
        }
    }

    private func exchange(_ request: String, _ send: () async throws -> HTTPClient.Response) async -> Exchange {
        do {
            let response = try await send()
            return Exchange(request: request, status: response.status, body: response.text, error: nil)
        } catch {
            return Exchange(request: request, status: nil, body: "", error: String(describing: error))
        }
    }
}

extension ConnectionTest.Exchange {
    var isSuccess: Bool { status.map { (200..<300).contains($0) } ?? false }
}

/// `herald notify-test`: a rule's real message, rendered for a sample or given event and sent to every place
/// the rule names through the `Courier`, as delivery would send it, marked as a test.
///
/// The issue is made up for the message (it is not stored), so nothing in Herald's state changes; buttons on
/// a test message name issue 0, which no callback will find.
public struct NotifyTest: Sendable {
    public struct Result: Sendable {
        public var delivery: Delivery
        public var outcome: Courier.Result
    }

    public let courier: Courier

    public init(courier: Courier) {
        self.courier = courier
    }

    /// An event that fills every tag the rule shows, for when no event file is given.
    public static func sampleEvent(for rule: Rule) -> Event {
        let deliveries = RuleEngine.deliveries(for: [rule], event: Event())
        var keys = deliveries.flatMap(\.tags)
        for action in rule.actions {
            if case .slack(let chat) = action { keys += chat.channels.flatMap(\.tagKeys) }
            if case .mattermost(let chat) = action { keys += chat.channels.flatMap(\.tagKeys) }
        }
        var seen = Set<String>()
        let tags = keys.filter { seen.insert($0).inserted }.map { Event.Tag($0, "sample-\($0)") }
        return Event(
            eventID: String(repeating: "0", count: 32), timestamp: Date(), level: .error, release: "1.0.0",
            environment: "production",
            message: "Test notification for the rule '\(rule.name)': this is what its alerts look like.",
            tags: tags)
    }

    /// Sends the rule's messages for the event; one result per place, in the rule's order.
    public func send(rule: Rule, event: Event) async -> [Result] {
        let now = Date()
        let issue = Issue(
            id: 0, projectID: 0, number: 0, shortID: "\(rule.project.uppercased())-TEST", fingerprint: "test",
            title: event.title, culprit: event.culprit, level: event.level, status: .unresolved, substatus: .new,
            firstSeen: now, lastSeen: now, timesSeen: 1, usersSeen: event.userKey == nil ? 0 : 1,
            lastRelease: event.release, assignee: nil, ignore: nil, resolution: nil, regressedAt: nil)
        let payload = event.sentryPayload()
        var results: [Result] = []
        for delivery in RuleEngine.deliveries(for: [rule], event: event) {
            let pending = PendingDelivery(
                id: 0, projectID: 0, projectSlug: rule.project, issue: issue, eventID: event.eventID ?? "test",
                eventPayload: payload, kind: delivery.kind.rawValue, target: delivery.target, channel: delivery.channel,
                channelTemplate: delivery.channelTemplate, rules: delivery.rules, tags: delivery.tags,
                notes: delivery.notes, problem: delivery.problem, attempts: 0, createdAt: now, nextAttemptAt: now,
                parent: nil)
            results.append(Result(delivery: delivery, outcome: await courier.deliver(pending, parent: nil, isTest: true)))
        }
        return results
    }
}

extension ChannelTemplate {
    /// The tag keys the template takes from the event.
    var tagKeys: [String] {
        parts.compactMap { if case .tag(let key) = $0 { key } else { nil } }
    }
}
