import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// An in-process stand-in for Slack, Mattermost and webhook receivers, on a real loopback port, speaking their
/// wire protocols (see ../shared/reference): bearer tokens per workspace, channel ids, `ok:false` errors,
/// 429 with `Retry-After`, 5xx, and hangs on request.
///
/// - Slack Web API at `/slack/api/<method>`: `chat.postMessage`, `chat.update`. Each workspace has its own
///   token and channels (`#name` → id); posting by name or id both work, as on Slack.
/// - Mattermost at `/mm`: `POST /api/v4/posts`, `PUT /api/v4/posts/<id>/patch`,
///   `GET /api/v4/teams/name/<team>/channels/name/<name>`, incoming webhook `POST /hooks/<id>`.
/// - Webhooks at `POST /hooks/<name>`.
///
/// Tests script answers per channel (`script`), then read what arrived (`requests`).
public final class ChatDouble: Sendable {
    private let server: LoopbackServer
    private let shared: Shared

    /// A scripted answer, used once, before the double's normal behaviour.
    public enum Scripted: Sendable {
        /// HTTP 429 with `Retry-After` and `{"ok":false,"error":"ratelimited"}`.
        case rateLimited(retryAfter: Int)
        /// That HTTP status with a short body.
        case status(Int)
        /// HTTP 200 `{"ok":false,"error":code}` (Slack) or a Mattermost AppError with status 403.
        case error(String)
        /// Waits this long, then answers normally.
        case delay(Duration)
    }

    /// One request as received.
    public struct Received: Sendable {
        public var path: String
        public var method: String
        /// Header names in lowercase.
        public var headers: [String: String]
        public var body: [UInt8]
        public var at: ContinuousClock.Instant
        /// The Slack workspace or Mattermost team its token belongs to; nil for webhooks or a bad token.
        public var workspace: String?
        /// The channel id it was posted to, once the double resolved it.
        public var channelID: String?

        public var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// A message the double holds, as posted and as last updated.
    public struct Message: Sendable {
        public var workspace: String
        public var channelID: String
        public var ref: String
        public var threadRef: String?
        public var body: [UInt8]
        public var updates: Int

        public var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
    }

    struct Workspace {
        var token: String
        /// Channel name (without `#`) to id.
        var channels: [String: String]
    }

    struct State {
        var recordsBodies = true
        /// Slack user id to email, for users.info; Mattermost user id to email, for /api/v4/users.
        var slackUsers: [String: String] = [:]
        var mattermostUsers: [String: String] = [:]
        /// Mattermost users who are in no channel; everyone else is in every channel of their team.
        var mattermostOutsiders: Set<String> = []
        var slack: [String: Workspace] = [:]
        var mattermost: [String: Workspace] = [:]
        var scripts: [String: [Scripted]] = [:]
        /// The share of unscripted requests answered 500, and 429 with `Retry-After: 1`.
        var failures = 0.0
        var rateLimits = 0.0
        var requests: [Received] = []
        var messages: [Message] = []
        var nextRef = 1
    }

    /// `slack`: workspace name → (token, channel names); `mattermost`: team name → (token, channel names).
    /// Channel ids are made up: `C<WORKSPACE><n>` on Slack, 26 lowercase characters on Mattermost.
    /// With `recordsBodies` false the double keeps what arrived but not the bodies, so a long benchmark does
    /// not grow its memory by every message.
    public init(
        slack: [String: (token: String, channels: [String])] = [:],
        mattermost: [String: (token: String, channels: [String])] = [:],
        slackUsers: [String: String] = [:],
        mattermostUsers: [String: String] = [:],
        recordsBodies: Bool = true
    ) async throws {
        var initial = State()
        initial.recordsBodies = recordsBodies
        initial.slackUsers = slackUsers
        initial.mattermostUsers = mattermostUsers
        for (name, workspace) in slack {
            var channels: [String: String] = [:]
            for (index, channel) in workspace.channels.enumerated() {
                channels[channel] = "C\(name.uppercased())\(index + 1)"
            }
            initial.slack[name] = Workspace(token: workspace.token, channels: channels)
        }
        for (team, workspace) in mattermost {
            var channels: [String: String] = [:]
            for (index, channel) in workspace.channels.enumerated() {
                let stem = "\(team)\(index + 1)".lowercased().filter { $0.isLetter || $0.isNumber }
                channels[channel] = String((stem + String(repeating: "x", count: 26)).prefix(26))
            }
            initial.mattermost[team] = Workspace(token: workspace.token, channels: channels)
        }
        let shared = Shared(state: initial)
        self.shared = shared

        let router = Router()
        router.post("/slack/api/:method") { request, context in
            try await shared.slack(request, method: context.parameters.get("method") ?? "")
        }
        router.get("/slack/api/users.info") { request, _ in try await shared.slackUser(request) }
        router.get("/slack/api/chat.getPermalink") { request, _ in try await shared.slackPermalink(request) }
        router.post("/slack/responses/:id") { request, _ in try await shared.slackResponse(request) }
        router.post("/mm/api/v4/posts") { request, _ in try await shared.mattermostPost(request, patch: nil) }
        router.put("/mm/api/v4/posts/:id/patch") { request, context in
            try await shared.mattermostPost(request, patch: context.parameters.get("id") ?? "")
        }
        router.get("/mm/api/v4/teams/name/:team/channels/name/:name") { request, context in
            try await shared.mattermostChannel(
                request, team: context.parameters.get("team") ?? "", name: context.parameters.get("name") ?? "")
        }
        router.get("/mm/api/v4/users/:id") { request, context in
            try await shared.mattermostUser(request, id: context.parameters.get("id") ?? "")
        }
        router.get("/mm/api/v4/channels/:channel/members/:user") { request, context in
            try await shared.mattermostMember(
                request, channel: context.parameters.get("channel") ?? "", user: context.parameters.get("user") ?? "")
        }
        router.post("/mm/hooks/:id") { request, _ in try await shared.mattermostHook(request) }
        router.post("/hooks/:name") { request, context in
            try await shared.webhook(request, name: context.parameters.get("name") ?? "")
        }
        server = await LoopbackServer(router: router)
    }

    public var port: Int { server.port }
    public var slackURL: String { "http://127.0.0.1:\(port)/slack/api" }
    /// A response_url for an interaction; what Herald posts there is kept under `requests(path:)`.
    public func slackResponseURL(_ id: String) -> String { "http://127.0.0.1:\(port)/slack/responses/\(id)" }
    public var mattermostURL: String { "http://127.0.0.1:\(port)/mm" }
    public func webhookURL(_ name: String) -> String { "http://127.0.0.1:\(port)/hooks/\(name)" }
    public func mattermostHookURL(_ id: String) -> String { "http://127.0.0.1:\(port)/mm/hooks/\(id)" }

    /// The id the double gave a channel.
    public func slackChannelID(_ workspace: String, _ name: String) -> String? {
        shared.state.withLock { $0.slack[workspace]?.channels[name.trimmingCharacters(in: ["#"])] }
    }

    public func mattermostChannelID(_ team: String, _ name: String) -> String? {
        shared.state.withLock { $0.mattermost[team]?.channels[name.trimmingCharacters(in: ["#", "~"])] }
    }

    /// Takes a Mattermost user out of every channel: the membership check then answers 404 for them.
    public func removeFromMattermostChannels(_ user: String) {
        shared.state.withLock { _ = $0.mattermostOutsiders.insert(user) }
    }

    /// Queues answers for requests to one channel (Slack `#name` or id, Mattermost channel id) or webhook
    /// name; `"*"` matches any request.
    public func script(_ key: String, _ answers: Scripted...) {
        shared.state.withLock { $0.scripts[key, default: []].append(contentsOf: answers) }
    }

    /// Bad weather: of the requests no script answers, `failures` (a share) are answered 500 and
    /// `rateLimits` 429 with `Retry-After: 1`, at random.
    public func weather(failures: Double, rateLimits: Double) {
        shared.state.withLock { state in
            state.failures = failures
            state.rateLimits = rateLimits
        }
    }

    /// Drops every scripted answer not used yet.
    public func resetScripts() {
        shared.state.withLock { $0.scripts = [:] }
    }

    public var requests: [Received] { shared.state.withLock { $0.requests } }
    public var messages: [Message] { shared.state.withLock { $0.messages } }

    /// How many messages the double holds, without copying them (a copy held while the server appends would
    /// make the next append copy the whole list).
    public var messageCount: Int { shared.state.withLock { $0.messages.count } }

    public func requests(path suffix: String) -> [Received] {
        requests.filter { $0.path.hasSuffix(suffix) }
    }

    public func stop() async throws {
        try await server.stop()
    }

    /// The handlers, over the shared state.
    private final class Shared: Sendable {
        let state: Mutex<State>

        init(state: State) {
            self.state = Mutex(state)
        }

        // MARK: Slack

        func slack(_ request: Request, method: String) async throws -> Response {
            let body = Array(buffer: try await request.body.collect(upTo: 4 << 20))
            let token = bearer(request)
            let workspace = state.withLock { state in state.slack.first { $0.value.token == token }?.key }
            let json = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
            let channel = json["channel"] as? String ?? ""
            var received = record(request, body: body, workspace: workspace)
            if let answer = try await scripted(keys: [channel, "*"]) {
                switch answer {
                case .rateLimited(let seconds):
                    return Self.json(#"{"ok":false,"error":"ratelimited"}"#, status: .tooManyRequests,
                                     headers: [HTTPField.Name("Retry-After")!: String(seconds)])
                case .status(let code): return Self.json("upstream failure \(code)", status: .init(code: code))
                case .error(let code): return Self.slackError(code)
                case .delay: break
                }
            }
            guard let workspace else {
                return Self.slackError(token == nil ? "not_authed" : "invalid_auth")
            }
            guard let contentType = request.headers[.contentType], contentType.hasPrefix("application/json") else {
                return Self.slackError("invalid_arguments")
            }
            if method == "views.open" {
                guard let trigger = json["trigger_id"] as? String, !trigger.isEmpty, json["view"] is [String: Any] else {
                    return Self.slackError("invalid_trigger_id")
                }
                return Self.json(#"{"ok":true,"view":{"id":"V0FORM"}}"#)
            }
            let channelID = state.withLock { state -> String? in
                let channels = state.slack[workspace]!.channels
                if channel.hasPrefix("#") { return channels[String(channel.dropFirst())] }
                return channels.values.contains(channel) ? channel : nil
            }
            guard let channelID else { return Self.slackError("channel_not_found") }
            received.channelID = channelID
            update(received)
            let blocks = json["blocks"] as? [Any]
            guard json["text"] is String || blocks != nil else { return Self.slackError("no_text") }
            if let blocks, blocks.count > 50 { return Self.slackError("invalid_blocks") }
            switch method {
            case "chat.postMessage":
                let threadTS = json["thread_ts"] as? String
                let ts = state.withLock { state -> String in
                    let ts = String(format: "1700000000.%06d", state.nextRef)
                    state.nextRef += 1
                    state.messages.append(Message(
                        workspace: workspace, channelID: channelID, ref: ts, threadRef: threadTS,
                        body: state.recordsBodies ? body : [], updates: 0))
                    return ts
                }
                return Self.json(#"{"ok":true,"channel":"\#(channelID)","ts":"\#(ts)","message":{"ts":"\#(ts)"}}"#)
            case "chat.update":
                let ts = json["ts"] as? String ?? ""
                let found = state.withLock { state -> Bool in
                    guard let index = state.messages.firstIndex(where: {
                        $0.workspace == workspace && $0.channelID == channelID && $0.ref == ts
                    }) else { return false }
                    state.messages[index].body = body
                    state.messages[index].updates += 1
                    return true
                }
                guard found else { return Self.slackError("message_not_found") }
                return Self.json(#"{"ok":true,"channel":"\#(channelID)","ts":"\#(ts)"}"#)
            default:
                return Self.slackError("unknown_method")
            }
        }

        func slackUser(_ request: Request) async throws -> Response {
            let token = bearer(request)
            let workspace = state.withLock { state in state.slack.first { $0.value.token == token }?.key }
            _ = record(request, body: [], workspace: workspace)
            guard workspace != nil else { return Self.slackError("invalid_auth") }
            let id = request.uri.queryParameters["user"].map(String.init) ?? ""
            guard let email = state.withLock({ $0.slackUsers[id] }) else { return Self.slackError("user_not_found") }
            return Self.json(#"{"ok":true,"user":{"id":"\#(id)","name":"\#(id.lowercased())","profile":{"email":"\#(email)"}}}"#)
        }

        /// `chat.getPermalink` of a message the double holds: a URL naming the workspace, channel and ts.
        func slackPermalink(_ request: Request) async throws -> Response {
            let token = bearer(request)
            let workspace = state.withLock { state in state.slack.first { $0.value.token == token }?.key }
            _ = record(request, body: [], workspace: workspace)
            guard let workspace else { return Self.slackError("invalid_auth") }
            let channel = request.uri.queryParameters["channel"].map(String.init) ?? ""
            let ts = request.uri.queryParameters["message_ts"].map(String.init) ?? ""
            let known = state.withLock { state in
                state.messages.contains { $0.workspace == workspace && $0.channelID == channel && $0.ref == ts }
            }
            guard known else { return Self.slackError("message_not_found") }
            let link = "https://\(workspace).slack.example/archives/\(channel)/p\(ts.replacingOccurrences(of: ".", with: ""))"
            return Self.json(#"{"ok":true,"channel":"\#(channel)","permalink":"\#(link)"}"#)
        }

        /// An interaction's response_url: what Herald answers the clicker with.
        func slackResponse(_ request: Request) async throws -> Response {
            let body = Array(buffer: try await request.body.collect(upTo: 1 << 20))
            _ = record(request, body: body, workspace: nil)
            return Response(status: .ok)
        }

        static func slackError(_ code: String) -> Response {
            json(#"{"ok":false,"error":"\#(code)"}"#)
        }

        // MARK: Mattermost

        func mattermostPost(_ request: Request, patch id: String?) async throws -> Response {
            let body = Array(buffer: try await request.body.collect(upTo: 4 << 20))
            let token = bearer(request)
            let team = state.withLock { state in state.mattermost.first { $0.value.token == token }?.key }
            let json = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
            let channelID = json["channel_id"] as? String ?? ""
            var received = record(request, body: body, workspace: team)
            if let answer = try await scripted(keys: [channelID, "*"]) {
                switch answer {
                case .rateLimited(let seconds):
                    return Self.appError(429, "api.context.rate_limited", "Too many requests",
                                         headers: [HTTPField.Name("Retry-After")!: String(seconds)])
                case .status(let code): return Self.json("upstream failure \(code)", status: .init(code: code))
                case .error(let id): return Self.appError(403, id, "refused by the double")
                case .delay: break
                }
            }
            guard let team else { return Self.appError(401, "api.context.session_expired.app_error", "Invalid or expired session") }
            if let id {
                let found = state.withLock { state -> Bool in
                    guard let index = state.messages.firstIndex(where: { $0.workspace == team && $0.ref == id }) else {
                        return false
                    }
                    state.messages[index].body = body
                    state.messages[index].updates += 1
                    return true
                }
                return found ? Self.json(#"{"id":"\#(id)"}"#) : Self.appError(404, "app.post.get.app_error", "post not found")
            }
            let known = state.withLock { $0.mattermost[team]!.channels.values.contains(channelID) }
            guard known else { return Self.appError(403, "api.context.permissions.app_error", "not a member of the channel") }
            received.channelID = channelID
            update(received)
            let rootID = (json["root_id"] as? String).flatMap { $0.isEmpty ? nil : $0 }
            let postID = state.withLock { state -> String in
                let id = String(format: "post%022d", state.nextRef)
                state.nextRef += 1
                state.messages.append(Message(
                    workspace: team, channelID: channelID, ref: id, threadRef: rootID,
                    body: state.recordsBodies ? body : [], updates: 0))
                return id
            }
            return Self.json(#"{"id":"\#(postID)","channel_id":"\#(channelID)","create_at":1700000000000}"#, status: .created)
        }

        func mattermostChannel(_ request: Request, team: String, name: String) async throws -> Response {
            let token = bearer(request)
            _ = record(request, body: [], workspace: team)
            let (tokenOK, id) = state.withLock { state in
                (state.mattermost[team]?.token == token, state.mattermost[team]?.channels[name])
            }
            guard tokenOK else { return Self.appError(401, "api.context.session_expired.app_error", "Invalid or expired session") }
            guard let id else { return Self.appError(404, "app.channel.get_by_name.missing.app_error", "Channel does not exist.") }
            return Self.json(#"{"id":"\#(id)","name":"\#(name)"}"#)
        }

        func mattermostUser(_ request: Request, id: String) async throws -> Response {
            let token = bearer(request)
            let team = state.withLock { state in state.mattermost.first { $0.value.token == token }?.key }
            _ = record(request, body: [], workspace: team)
            guard team != nil else { return Self.appError(401, "api.context.session_expired.app_error", "Invalid or expired session") }
            guard let email = state.withLock({ $0.mattermostUsers[id] }) else {
                return Self.appError(404, "app.user.missing_account.const", "Unable to find the user.")
            }
            return Self.json(#"{"id":"\#(id)","username":"\#(id)","email":"\#(email)"}"#)
        }

        func mattermostMember(_ request: Request, channel: String, user: String) async throws -> Response {
            let token = bearer(request)
            let team = state.withLock { state in state.mattermost.first { $0.value.token == token }?.key }
            _ = record(request, body: [], workspace: team)
            if let answer = try await scripted(keys: ["members"]), case .status(let code) = answer {
                return Self.json("upstream failure \(code)", status: .init(code: code))
            }
            guard let team else { return Self.appError(401, "api.context.session_expired.app_error", "Invalid or expired session") }
            let member = state.withLock { state in
                state.mattermost[team]?.channels.values.contains(channel) == true
                    && !state.mattermostOutsiders.contains(user)
            }
            guard member else {
                return Self.appError(404, "app.channel.get_member.missing.app_error", "No channel member found for that user ID and channel ID.")
            }
            return Self.json(#"{"channel_id":"\#(channel)","user_id":"\#(user)","roles":"channel_user"}"#)
        }

        func mattermostHook(_ request: Request) async throws -> Response {
            let body = Array(buffer: try await request.body.collect(upTo: 4 << 20))
            _ = record(request, body: body, workspace: nil)
            if let answer = try await scripted(keys: ["hook", "*"]) {
                switch answer {
                case .status(let code): return Self.json("upstream failure \(code)", status: .init(code: code))
                case .error(let id): return Self.appError(400, id, "refused by the double")
                case .rateLimited(let seconds):
                    return Self.appError(429, "api.context.rate_limited", "Too many requests",
                                         headers: [HTTPField.Name("Retry-After")!: String(seconds)])
                case .delay: break
                }
            }
            return Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: "ok")))
        }

        static func appError(_ status: Int, _ id: String, _ message: String, headers: HTTPFields = [:]) -> Response {
            json(#"{"id":"\#(id)","message":"\#(message)","detailed_error":"","status_code":\#(status)}"#,
                 status: .init(code: status), headers: headers)
        }

        // MARK: Webhooks

        func webhook(_ request: Request, name: String) async throws -> Response {
            let body = Array(buffer: try await request.body.collect(upTo: 4 << 20))
            _ = record(request, body: body, workspace: nil)
            if let answer = try await scripted(keys: [name, "*"]) {
                switch answer {
                case .rateLimited(let seconds):
                    return Self.json("slow down", status: .tooManyRequests,
                                     headers: [HTTPField.Name("Retry-After")!: String(seconds)])
                case .status(let code): return Self.json("failure \(code)", status: .init(code: code))
                case .error(let text): return Self.json(text, status: .badRequest)
                case .delay: break
                }
            }
            return Self.json(#"{"received":true}"#, status: .accepted)
        }

        // MARK: Shared

        private func bearer(_ request: Request) -> String? {
            guard let value = request.headers[.authorization], value.hasPrefix("Bearer ") else { return nil }
            return String(value.dropFirst(7))
        }

        private func record(_ request: Request, body: [UInt8], workspace: String?) -> Received {
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName.lowercased()] = field.value }
            let received = Received(
                path: request.uri.path, method: request.method.rawValue, headers: headers, body: body,
                at: .now, workspace: workspace, channelID: nil)
            state.withLock { state in
                var kept = received
                if !state.recordsBodies { kept.body = [] }
                state.requests.append(kept)
            }
            return received
        }

        /// Replaces the last record of this request with one that knows its channel.
        private func update(_ received: Received) {
            state.withLock { state in
                if let index = state.requests.lastIndex(where: { $0.at == received.at && $0.path == received.path }) {
                    state.requests[index] = received
                }
            }
        }

        /// The next scripted answer for the first key that has one; a delay is served here.
        private func scripted(keys: [String]) async throws -> Scripted? {
            let answer = state.withLock { state -> Scripted? in
                for key in keys {
                    if var queue = state.scripts[key], !queue.isEmpty {
                        let answer = queue.removeFirst()
                        state.scripts[key] = queue
                        return answer
                    }
                }
                guard state.failures > 0 || state.rateLimits > 0 else { return nil }
                let roll = Double.random(in: 0..<1)
                if roll < state.failures { return .status(500) }
                if roll < state.failures + state.rateLimits { return .rateLimited(retryAfter: 1) }
                return nil
            }
            if case .delay(let duration) = answer { try await Task.sleep(for: duration) }
            return answer
        }

        static func json(_ text: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
            var headers = headers
            headers[.contentType] = "application/json; charset=utf-8"
            return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
        }
    }
}
