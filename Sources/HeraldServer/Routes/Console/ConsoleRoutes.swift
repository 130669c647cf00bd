import Foundation
import HeraldChat
import HeraldConfig
import HeraldConsole
import HeraldCore
import HeraldHTTP
import HeraldStore
import HTTPTypes
import Hummingbird
import Logging

/// The web console's pages and forms: `/issues`, `/issues/<id>`, `/rules`, `/deliveries`, and the actions
/// they post. Every page needs a signed-in person (else a redirect to `/login` and back); every POST carries
/// the session's CSRF token and changes nothing without it; actions go through `IssueActions`, the path
/// chat buttons take, with surface `web`.
struct ConsoleRoutes {
    let pages: ConsolePages
    let sessions: ConsoleSessions
    let actions: IssueActions
    let http: HTTPClient
    let logger: Logger
    /// Rings delivery after "retry now".
    let queued: @Sendable () -> Void

    var config: Config { actions.config }
    var store: Store { actions.store }

    func register(on router: Router<HeraldRequestContext>) {
        router.get("/") { _, _ in Response.redirect(to: "/issues", type: .found) }
        router.get("/static/:file") { _, context in try stylesheet(context.parameters.get("file") ?? "") }
        router.get("/issues") { request, _ in
            try await page(request) { viewer in
                do {
                    let parameters = Self.parameters(request)
                    return html(try await pages.issues(IssueListRequest(parameters: parameters), viewer: viewer,
                                                       flash: Self.flash(parameters["done"])))
                } catch let problem as PageProblem {
                    return html(pages.notice(title: "Cannot list issues", paragraphs: [problem.description],
                                             link: ("/issues", "All issues"), viewer: viewer), status: .badRequest)
                }
            }
        }
        router.get("/issues/:reference") { request, context in
            try await page(request) { viewer in
                let reference = context.parameters.get("reference") ?? ""
                let parameters = Self.parameters(request)
                let options = IssuePageOptions(
                    eventID: parameters["event"], whyNot: parameters["why_not"], flash: Self.flash(parameters["done"]))
                guard let body = try await pages.issue(reference, viewer: viewer, options: options) else {
                    return notFound("There is no issue '\(reference.prefix(40))'.", viewer: viewer)
                }
                return html(body)
            }
        }
        router.post("/issues/bulk") { request, _ in try await bulk(request) }
        router.post("/issues/:reference/actions") { request, context in
            try await act(request, reference: context.parameters.get("reference") ?? "")
        }
        router.get("/rules") { request, _ in
            try await page(request) { viewer in html(try await pages.rules(viewer: viewer)) }
        }
        router.post("/rules/explain") { request, _ in
            try await form(request, limit: 1 << 20) { viewer, fields in
                let result = await pages.explain(issue: fields["issue"]?.trimmed ?? "", json: fields["event"] ?? "")
                return html(try await pages.rules(viewer: viewer, explained: result))
            }
        }
        router.get("/deliveries") { request, _ in
            try await page(request) { viewer in try await deliveries(request, viewer: viewer) }
        }
        router.post("/deliveries/:id/retry") { request, context in
            try await retry(request, id: context.parameters.get("id") ?? "")
        }
        router.get("/deliveries/:id/message") { request, context in
            try await page(request) { viewer in try await message(delivery: context.parameters.get("id") ?? "", viewer: viewer) }
        }
    }

    // MARK: Pages

    /// Runs `body` for the signed-in person; sends anyone else to sign in, and back here afterwards.
    private func page(_ request: Request, _ body: (Viewer) async throws -> Response) async throws -> Response {
        guard let viewer = try await sessions.viewer(request) else {
            let here = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
            return Response.redirect(to: "/login?next=" + FormEncoding.escape(here), type: .found)
        }
        return try await body(viewer)
    }

    /// Reads a form POST of the signed-in person, checks its CSRF token, and runs `body` with its fields. A
    /// missing session, a missing or wrong token, or a body that is too large is refused before anything runs.
    private func form(
        _ request: Request, limit: Int = 64 << 10, _ body: (Viewer, [String: String]) async throws -> Response
    ) async throws -> Response {
        try await pairs(request, limit: limit) { viewer, pairs in
            try await body(viewer, Dictionary(pairs, uniquingKeysWith: { _, last in last }))
        }
    }

    private func pairs(
        _ request: Request, limit: Int, _ body: (Viewer, [(name: String, value: String)]) async throws -> Response
    ) async throws -> Response {
        guard let viewer = try await sessions.viewer(request) else {
            return html(pages.notice(
                title: "Sign in first", paragraphs: ["Your session has ended, so nothing was changed. Sign in and try again."],
                link: ("/login", "Sign in")), status: .forbidden)
        }
        let buffer = try await request.readBody(upTo: limit, within: config.server.bodyTimeout)
        let pairs = FormBody.pairs(Array(buffer: buffer))
        let token = pairs.last { $0.name == "csrf" }?.value ?? ""
        guard !token.isEmpty, ConstantTime.equal(token, viewer.csrf) else {
            return html(pages.notice(
                title: "This form has expired",
                paragraphs: ["The form did not carry this session's token, so nothing was changed. Reload the page and try again."],
                link: ("/issues", "Issues"), viewer: viewer), status: .forbidden)
        }
        return try await body(viewer, pairs)
    }

    private func html(_ body: String, status: HTTPResponse.Status = .ok) -> Response {
        ConsoleResponse.html(body, status: status)
    }

    private func notFound(_ text: String, viewer: Viewer) -> Response {
        html(pages.notice(title: "Not found", paragraphs: [text], link: ("/issues", "All issues"), viewer: viewer),
             status: .notFound)
    }

    private func stylesheet(_ file: String) throws -> Response {
        guard "/static/" + file == Stylesheet.path else { throw HTTPError(.notFound) }
        return Response(
            status: .ok,
            headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "public, max-age=31536000, immutable"],
            body: .init(byteBuffer: ByteBuffer(string: Stylesheet.text)))
    }

    // MARK: Actions

    /// `POST /issues/<id>/actions` with `action` as the chat buttons carry it.
    private func act(_ request: Request, reference: String) async throws -> Response {
        try await form(request) { viewer, fields in
            guard let issue = try await store.issue(reference) else {
                return notFound("There is no issue '\(reference.prefix(40))'.", viewer: viewer)
            }
            let outcome = await perform(fields["action"] ?? "", on: issue.id, viewer: viewer)
            return Response.redirect(to: "/issues/\(issue.id)?done=\(outcome)", type: .normal)
        }
    }

    /// `POST /issues/bulk`: one action on every checked issue, each through the one path with its own record.
    private func bulk(_ request: Request) async throws -> Response {
        try await pairs(request, limit: 256 << 10) { viewer, pairs in
            let action = pairs.last { $0.name == "action" }?.value ?? ""
            let ids = pairs.filter { $0.name == "issue" }.compactMap { Int64($0.value) }.prefix(500)
            var outcomes: [String] = []
            for id in ids { outcomes.append(await perform(action, on: id, viewer: viewer)) }
            let done = ids.isEmpty ? "none" : outcomes.allSatisfy({ $0 == outcomes.first }) ? outcomes.first ?? "none" : "mixed"
            let back = ConsolePath.safe(pairs.last { $0.name == "back" }?.value)
            return Response.redirect(to: back + (back.contains("?") ? "&" : "?") + "done=\(done)", type: .normal)
        }
    }

    /// Carries out one action for the viewer; the answer names the outcome for the page's notice.
    private func perform(_ text: String, on issueID: Int64, viewer: Viewer) async -> String {
        guard let action = IssueAction(text) else { return "unknown" }
        let actor = Actor(email: viewer.user.email, name: viewer.user.name, surface: "web")
        do {
            switch try await actions.perform(action, on: issueID, actor: actor, user: viewer.user) {
            case .changed: return "changed"
            case .unchanged: return "unchanged"
            case .duplicate: return "unchanged"
            }
        } catch let refusal as IssueActions.Refusal {
            switch refusal {
            case .readOnly: return "forbidden"
            case .unknownAssignee: return "unknown"
            }
        } catch StoreError.unknownIssue {
            return "missing"
        } catch {
            logger.error("a console action failed", metadata: ["error": "\(error)", "issue": "\(issueID)"])
            return "failed"
        }
    }

    /// The notice for `?done=`: fixed texts, so a link cannot make the page say something else.
    static func flash(_ code: String?) -> String? {
        switch code {
        case "changed": "Done. Every chat message of the issue is being updated."
        case "unchanged": "Nothing to change: it already stood that way."
        case "forbidden": "Stakeholders can see issues but not change them; nothing was changed."
        case "unknown": "That action is not one Herald knows; nothing was changed."
        case "missing": "That issue no longer exists."
        case "failed": "The action failed; nothing was changed. The server log has the reason."
        case "mixed": "Done; some of the issues already stood that way."
        case "none": "No issue was selected."
        case "retried": "The delivery is queued for another attempt now."
        case "not-retryable": "That delivery is not failed or given up, so it was not retried."
        default: nil
        }
    }

    // MARK: Deliveries

    private func deliveries(_ request: Request, viewer: Viewer) async throws -> Response {
        let parameters = Self.parameters(request)
        var query = DeliveryQuery(limit: 50)
        var problems: [String] = []
        if let text = parameters["status"], !text.isEmpty {
            if let status = DeliveryStatus(rawValue: text) { query.statuses = [status] } else { problems.append("unknown status '\(text.prefix(40))'") }
        }
        if let text = parameters["kind"], !text.isEmpty {
            if let kind = DeliveryKind(rawValue: text) { query.kind = kind } else { problems.append("unknown kind '\(text.prefix(40))'") }
        }
        if let target = parameters["target"]?.trimmed, !target.isEmpty { query.target = target }
        if let text = parameters["issue"]?.trimmed, !text.isEmpty {
            if let issue = try await store.issue(text) { query.issueID = issue.id } else { problems.append("no issue '\(text.prefix(40))'") }
        }
        if let text = parameters["before"], !text.isEmpty {
            if let before = Int64(text) { query.beforeID = before } else { problems.append("'before' must be a delivery id") }
        }
        guard problems.isEmpty else {
            return html(pages.notice(title: "Cannot list deliveries", paragraphs: problems, link: ("/deliveries", "All deliveries"),
                                     viewer: viewer), status: .badRequest)
        }
        return html(try await pages.deliveries(query, filters: parameters, viewer: viewer, flash: Self.flash(parameters["done"])))
    }

    /// `POST /deliveries/<id>/retry`: a failed or given-up row gets one more attempt now.
    private func retry(_ request: Request, id text: String) async throws -> Response {
        try await form(request) { viewer, _ in
            guard viewer.canAct else {
                return html(pages.notice(title: "Not allowed", paragraphs: ["Stakeholders can see deliveries but not retry them."],
                                         link: ("/deliveries", "Deliveries"), viewer: viewer), status: .forbidden)
            }
            guard let id = Int64(text) else { return notFound("There is no delivery '\(text.prefix(20))'.", viewer: viewer) }
            let retried = try await store.retryNow(delivery: id)
            if retried {
                queued()
                logger.info("delivery retried from the console", metadata: ["delivery": "\(id)", "by": "\(viewer.user.email)"])
            }
            return Response.redirect(to: "/deliveries?done=\(retried ? "retried" : "not-retryable")", type: .normal)
        }
    }

    /// `GET /deliveries/<id>/message`: to the chat message a delivery posted (Slack's permalink, Mattermost's
    /// post URL).
    private func message(delivery text: String, viewer: Viewer) async throws -> Response {
        guard let id = Int64(text), let entry = try await store.delivery(id: id), let ref = entry.deliveredRef else {
            return notFound("That delivery posted no message.", viewer: viewer)
        }
        switch entry.kind {
        case .slack:
            guard let workspace = config.slackWorkspace(named: entry.target), let channel = entry.deliveredChannel else { break }
            do {
                let link = try await SlackClient(workspace: workspace, http: http).permalink(channel: channel, ts: ref)
                return Response.redirect(to: link, type: .found)
            } catch {
                return html(pages.notice(title: "Slack did not give the message's link",
                                         paragraphs: ["chat.getPermalink: \(error)"], viewer: viewer), status: .badGateway)
            }
        case .mattermost:
            guard let connector = config.mattermostConnector(named: entry.target) else { break }
            let base = connector.url.hasSuffix("/") ? String(connector.url.dropLast()) : connector.url
            return Response.redirect(to: base + "/_redirect/pl/" + FormEncoding.escape(ref), type: .found)
        case .webhook:
            break
        }
        return notFound("The workspace or connector of that delivery is no longer configured.", viewer: viewer)
    }

    /// The query string as an HTML form sends it (`+` is a space), so `?q=card+declined` is two words.
    static func parameters(_ request: Request) -> [String: String] {
        FormBody.parse(Array((request.uri.query ?? "").utf8))
    }
}

extension String {
    var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}

/// How the console answers with HTML: no caching of pages that show people's data, no framing, and a
/// content security policy that allows only Herald's own stylesheet and forms.
enum ConsoleResponse {
    static func html(_ body: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status,
            headers: [
                .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                .contentSecurityPolicy: "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
                HTTPField.Name("X-Frame-Options")!: "DENY", HTTPField.Name("X-Content-Type-Options")!: "nosniff",
                HTTPField.Name("Referrer-Policy")!: "same-origin",
            ],
            body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
