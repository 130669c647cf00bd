import Foundation
import HeraldConfig
import HeraldHTTP

/// Posts to one Mattermost server: through the bot REST API when the connector has a token (posts can then
/// be updated and threaded), else through its incoming webhook.
public struct MattermostClient: Sendable {
    public let connector: Config.MattermostConnector
    private let http: HTTPClient

    public init(connector: Config.MattermostConnector, http: HTTPClient) {
        self.connector = connector
        self.http = http
    }

    /// Whether posts go through the bot API, and so can be updated and replied to.
    public var usesBotAPI: Bool { connector.token != nil }

    /// A channel name as Mattermost's URLs spell it: without a leading `#` or `~`.
    public static func channelName(_ channel: String) -> String {
        channel.hasPrefix("#") || channel.hasPrefix("~") ? String(channel.dropFirst()) : channel
    }

    /// Whether the text is already a channel id (26 lowercase letters and digits).
    public static func isChannelID(_ text: String) -> Bool {
        text.utf8.count == 26 && text.utf8.allSatisfy { (48...57).contains($0) || (97...122).contains($0) }
    }

    /// `POST /api/v4/posts`; the new post's id.
    public func createPost(_ message: MattermostMessage, channelID: String, rootID: String? = nil)
        async throws(ChatFailure) -> String
    {
        let answer = try await call("POST", "/api/v4/posts", body: message.postBody(channelID: channelID, rootID: rootID))
        guard let id = answer["id"] as? String else { throw .transient("the new post has no id") }
        return id
    }

    /// `PUT /api/v4/posts/<id>/patch` with the message's attachment.
    public func patchPost(id: String, _ message: MattermostMessage) async throws(ChatFailure) {
        _ = try await call("PUT", "/api/v4/posts/\(id)/patch", body: message.patchBody())
    }

    /// The id of a channel of the connector's team, by name.
    public func channelID(named channel: String) async throws(ChatFailure) -> String {
        let name = Self.channelName(channel)
        if Self.isChannelID(name) { return name }
        guard let team = connector.team else {
            throw .permanent(code: ChatFailure.Code.noTeam, detail: "connector '\(connector.name)' has no 'team' to look channel \(channel) up in")
        }
        let path = "/api/v4/teams/name/\(Self.pathSegment(team))/channels/name/\(Self.pathSegment(name))"
        let answer: [String: Any]
        do {
            answer = try await call("GET", path, body: [])
        } catch {
            if case .permanent(ChatFailure.Code.http(404), _) = error {
                throw .permanent(code: ChatFailure.Code.channelNotFound, detail: "no channel \(channel) in team \(team)")
            }
            throw error
        }
        guard let id = answer["id"] as? String else { throw .transient("the channel has no id") }
        return id
    }

    /// A user's email, from `GET /api/v4/users/<id>` with the bot token; nil when the server hides it.
    public func email(ofUser id: String) async throws(ChatFailure) -> String? {
        let answer = try await call("GET", "/api/v4/users/\(Self.pathSegment(id))", body: [])
        return (answer["email"] as? String).flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Whether a user is a member of a channel: `GET /api/v4/channels/<channel>/members/<user>` answers 200
    /// for a member and 404 for anyone else. Any other failure is thrown: membership then is unknown.
    public func isMember(user: String, ofChannel channel: String) async throws(ChatFailure) -> Bool {
        do {
            _ = try await call("GET", "/api/v4/channels/\(Self.pathSegment(channel))/members/\(Self.pathSegment(user))", body: [])
            return true
        } catch {
            if error.code == ChatFailure.Code.http(404) { return false }
            throw error
        }
    }

    /// Posts through the incoming webhook; it answers `ok` and no post id.
    public func postWebhook(_ message: MattermostMessage, channel: String?) async throws(ChatFailure) {
        guard connector.webhookURL != nil else {
            throw .permanent(code: ChatFailure.Code.noWebhook, detail: "connector '\(connector.name)' has no webhook_url")
        }
        let response = try await ChatFailure.answer {
            try await sendWebhook(message, channel: channel)
        }
        try Self.check(response)
    }

    /// The incoming webhook's exact answer: for `herald test-connection`.
    public func sendWebhook(_ message: MattermostMessage, channel: String?) async throws -> HTTPClient.Response {
        try await http.send(HTTPClient.Request(
            "POST", connector.webhookURL?.value ?? "", headers: [("Content-Type", "application/json")],
            body: message.webhookBody(channel: channel)))
    }

    /// One bot API call; the answer's JSON object.
    func call(_ method: String, _ path: String, body: [UInt8]) async throws(ChatFailure) -> [String: Any] {
        let response = try await ChatFailure.answer {
            try await send(method, path, body: body)
        }
        try Self.check(response)
        return jsonObject(response.body) ?? [:]
    }

    /// The request as sent, and the exact answer: for `herald test-connection`.
    public func send(_ method: String, _ path: String, body: [UInt8]) async throws -> HTTPClient.Response {
        var headers = [("Authorization", "Bearer \(connector.token?.value ?? "")")]
        if !body.isEmpty { headers.append(("Content-Type", "application/json")) }
        return try await http.send(HTTPClient.Request(method, connector.url + path, headers: headers, body: body))
    }

    /// 2xx passes; 429 and 5xx are for later; any other status is final, named by Mattermost's error id.
    static func check(_ response: HTTPClient.Response) throws(ChatFailure) {
        if (200..<300).contains(response.status) { return }
        if let failure = ChatFailure.status(response) { throw failure }
        let answer = jsonObject(response.body)
        let message = answer?["message"] as? String ?? ChatFailure.snippet(response) ?? ""
        let id = answer?["id"] as? String
        throw .permanent(
            code: ChatFailure.Code.http(response.status), detail: [id, message].compactMap { $0 }.joined(separator: ": "))
    }

    private static func pathSegment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_.~"))) ?? text
    }
}
