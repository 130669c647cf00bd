import Foundation
import HeraldConfig
import HeraldCore
import HeraldHTTP

/// Calls the Slack Web API of one workspace, with its bot token.
public struct SlackClient: Sendable {
    public let workspace: Config.SlackWorkspace
    private let http: HTTPClient

    /// Slack's errors that say the request might succeed later. Slack warns that the message may have been
    /// posted all the same, so a retry can duplicate it; everything else in `ok:false` is final.
    public static let transientErrors: Set<String> = [
        "internal_error", "fatal_error", "service_unavailable", "request_timeout", "ratelimited",
    ]

    public init(workspace: Config.SlackWorkspace, http: HTTPClient) {
        self.workspace = workspace
        self.http = http
    }

    /// Where a message was posted.
    public struct Posted: Sendable, Hashable {
        /// The channel's id, whatever name it was posted to.
        public var channel: String
        public var ts: String
    }

    /// `chat.postMessage`; `channel` is an id or a `#name`.
    public func postMessage(_ message: SlackMessage, channel: String, threadTS: String? = nil)
        async throws(ChatFailure) -> Posted
    {
        let answer = try await call("chat.postMessage", body: message.postBody(channel: channel, threadTS: threadTS))
        guard let id = answer["channel"] as? String, let ts = answer["ts"] as? String else {
            throw .transient("chat.postMessage answered ok without a channel and ts")
        }
        return Posted(channel: id, ts: ts)
    }

    /// `chat.update` of a message Herald posted.
    public func update(_ message: SlackMessage, channel: String, ts: String) async throws(ChatFailure) {
        _ = try await call("chat.update", body: message.updateBody(channel: channel, ts: ts))
    }

    /// A user's email, from `users.info` (needs `users:read.email`); nil when Slack shows none.
    public func email(ofUser id: String) async throws(ChatFailure) -> String? {
        let query = id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? id
        let response = try await ChatFailure.answer {
            try await http.send(HTTPClient.Request(
                "GET", "\(workspace.apiURL)/users.info?user=\(query)",
                headers: [("Authorization", "Bearer \(workspace.token.value)")]))
        }
        if let failure = ChatFailure.status(response) { throw failure }
        guard let answer = jsonObject(response.body), answer["ok"] as? Bool == true else {
            let code = jsonObject(response.body)?["error"] as? String ?? ChatFailure.Code.http(response.status)
            throw .permanent(code: code, detail: "users.info refused: \(code)")
        }
        let user = answer["user"] as? [String: Any]
        return (user?["profile"] as? [String: Any])?["email"] as? String
    }

    /// `chat.getPermalink`: the URL that opens a message Herald posted, for the console's "open the message".
    public func permalink(channel: String, ts: String) async throws(ChatFailure) -> String {
        let query = [("channel", channel), ("message_ts", ts)].map { name, value in
            name + "=" + (value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
        }.joined(separator: "&")
        let response = try await ChatFailure.answer {
            try await http.send(HTTPClient.Request(
                "GET", "\(workspace.apiURL)/chat.getPermalink?\(query)",
                headers: [("Authorization", "Bearer \(workspace.token.value)")]))
        }
        if let failure = ChatFailure.status(response) { throw failure }
        guard let answer = jsonObject(response.body), answer["ok"] as? Bool == true, let link = answer["permalink"] as? String
        else {
            let code = jsonObject(response.body)?["error"] as? String ?? ChatFailure.Code.http(response.status)
            throw .permanent(code: code, detail: "chat.getPermalink refused: \(code)")
        }
        return link
    }

    /// `views.open`: shows a modal to the person whose action gave `triggerID` (valid for 3 seconds, once).
    public func openView(triggerID: String, view: [String: any Sendable]) async throws(ChatFailure) {
        _ = try await call("views.open", body: Array(JSONWriter.text(["trigger_id": triggerID, "view": view]).utf8))
    }

    /// Whether `url` may be an interaction's `response_url`: https on Slack's hooks host, or on the host of the
    /// workspace's configured API. The URL arrives in the request body, so without this check anyone able to
    /// get a signed request through could make Herald post to any address.
    public static func isResponseURL(_ url: String, apiURL: String) -> Bool {
        guard let components = URLComponents(string: url), let host = components.host?.lowercased() else { return false }
        if components.scheme == "https" && (host == "hooks.slack.com" || host.hasSuffix(".slack.com")) { return true }
        guard let api = URLComponents(string: apiURL) else { return false }
        return components.scheme == api.scheme && host == api.host?.lowercased() && components.port == api.port
    }

    /// Posts to an interaction's `response_url`: an ephemeral answer to the person who clicked.
    public func respond(to url: String, ephemeral text: String) async throws(ChatFailure) {
        guard Self.isResponseURL(url, apiURL: workspace.apiURL) else {
            throw .permanent(
                code: ChatFailure.Code.invalidRequest,
                detail: "the response_url names \(URLComponents(string: url)?.host ?? "no host"), which is not Slack's")
        }
        let body = Array(JSONWriter.text([
            "response_type": "ephemeral", "replace_original": false, "text": text,
        ] as [String: any Sendable]).utf8)
        let response = try await ChatFailure.answer {
            try await http.send(HTTPClient.Request(
                "POST", url, headers: [("Content-Type", "application/json; charset=utf-8")], body: body))
        }
        if let failure = ChatFailure.status(response) { throw failure }
    }

    /// One Web API call with a JSON body; the answer's object when Slack says `ok`.
    public func call(_ method: String, body: [UInt8]) async throws(ChatFailure) -> [String: Any] {
        let response = try await ChatFailure.answer {
            try await send(method, body: body)
        }
        if let failure = ChatFailure.status(response) { throw failure }
        guard response.status == 200 else {
            throw .permanent(code: ChatFailure.Code.http(response.status), detail: ChatFailure.snippet(response) ?? "")
        }
        guard let answer = jsonObject(response.body), let ok = answer["ok"] as? Bool else {
            throw .transient("\(method) answered with something other than Slack's JSON: \(ChatFailure.snippet(response) ?? "empty body")")
        }
        if ok { return answer }
        let code = answer["error"] as? String ?? ChatFailure.Code.unknownError
        if Self.transientErrors.contains(code) { throw .transient("\(method): \(code)") }
        throw .permanent(code: code, detail: "\(method) refused: \(code)")
    }

    /// The request as sent, and the exact answer: for `herald test-connection`.
    public func send(_ method: String, body: [UInt8]) async throws -> HTTPClient.Response {
        try await http.send(HTTPClient.Request(
            "POST", "\(workspace.apiURL)/\(method)",
            headers: [
                ("Authorization", "Bearer \(workspace.token.value)"),
                ("Content-Type", "application/json; charset=utf-8"),
            ],
            body: body))
    }
}
