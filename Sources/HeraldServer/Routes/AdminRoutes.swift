import Foundation
import HeraldChat
import HeraldConfig
import HeraldCore
import HeraldStore
import Hummingbird
import Logging
import NIOCore

/// The admin API (`/api/v1/issues…`) and the rule endpoints (`/-/reload`, `/-/rules`), behind the admin token.
struct AdminRoutes {
    let store: Store
    let actions: IssueActions
    let projects: ProjectDirectory
    let rules: RuleBook
    let adminToken: Secret?
    let metrics: HeraldMetrics
    let logger: Logger

    func register(on router: Router<HeraldRequestContext>) {
        let authentication = AdminAuthentication<HeraldRequestContext>(token: adminToken, store: store)
        router.group("/api/v1").add(middleware: authentication)
            .get("issues") { request, _ in
                try await listIssues(request)
            }
            .get("issues/:id") { _, context in
                try await showIssue(context.parameters.get("id") ?? "")
            }
            .post("issues/:id/actions") { request, context in
                try await act(request, reference: context.parameters.get("id") ?? "")
            }
            .get("deliveries") { request, _ in
                try await listDeliveries(request)
            }
        router.group("/-").add(middleware: authentication)
            .post("reload") { _, _ in
                try reload()
            }
            .get("rules") { _, _ in
                try JSONResponse(rulesStatus())
            }
    }

    private func reload() throws -> Response {
        switch RuleReloader.reload(rules, because: "POST /-/reload", metrics: metrics, logger: logger) {
        case .reloaded(let version, let count):
            return try JSONResponse(["status": "reloaded", "version": version, "rules": count] as [String: any Sendable])
        case .unchanged(let version):
            return try JSONResponse(["status": "unchanged", "version": version] as [String: any Sendable])
        case .failed(let diagnostics):
            return try JSONResponse(
                ["status": "failed", "running_version": rules.engine.ruleSet.version,
                 "errors": diagnostics.all.map(\.description)] as [String: any Sendable],
                status: .unprocessableContent)
        }
    }

    // MARK: Issues

    private func listIssues(_ request: Request) async throws -> Response {
        let parameters = request.uri.queryParameters
        var query = IssueQuery()
        if let text = parameters["project"].map(String.init) {
            guard let project = Int(text).flatMap(projects.project(id:)) ?? projects.project(slug: text) else {
                throw APIError.badRequest("no project '\(text)'", field: "project")
            }
            query.projectID = project.id
        }
        if let text = parameters["status"].map(String.init) {
            guard let status = IssueStatus(rawValue: text) else {
                let names = IssueStatus.allCases.map(\.rawValue).joined(separator: ", ")
                throw APIError.badRequest("unknown status '\(text)'; expected one of \(names)", field: "status")
            }
            query.status = status
        }
        if let text = parameters["cursor"].map(String.init) {
            guard let cursor = IssueCursor(text: text) else {
                throw APIError.badRequest("not a cursor from a previous page", field: "cursor")
            }
            query.cursor = cursor
        }
        if let limit = try pageLimit(request) { query.limit = limit }
        let page = try await store.issues(query)
        var body: [String: any Sendable] = ["issues": page.issues.map(issueJSON)]
        body["next_cursor"] = page.nextCursor?.text
        return try JSONResponse(body)
    }

    /// The `limit` parameter of a listing: 1 to 500.
    private func pageLimit(_ request: Request) throws(APIError) -> Int? {
        guard let text = request.uri.queryParameters["limit"].map(String.init) else { return nil }
        guard let limit = Int(text), (1...500).contains(limit) else {
            throw APIError.badRequest("limit must be 1 to 500", field: "limit")
        }
        return limit
    }

    private func showIssue(_ reference: String) async throws -> Response {
        guard let issue = try await store.issue(reference) else {
            throw APIError(.notFound, "no issue '\(reference.prefix(40))'", reason: "not_found")
        }
        var body = issueJSON(issue)
        if let ack = try await store.acknowledgement(issue: issue) {
            var acknowledged: [String: any Sendable] = ["by": ack.name, "at": Timestamp.text(ack.at), "surface": ack.surface]
            acknowledged["email"] = ack.email
            body["acknowledged"] = acknowledged
        }
        body["events"] = try await store.events(issue: issue.id).map { event -> [String: any Sendable] in
            var json: [String: any Sendable] = [
                "event_id": event.eventID, "received_at": Timestamp.text(event.receivedAt), "level": event.level,
                "title": event.title,
            ]
            json["timestamp"] = event.timestamp.map(Timestamp.text)
            json["environment"] = event.environment
            json["release"] = event.release
            json["user"] = event.userKey
            json["payload"] = RawJSON(data: event.payload)
            return json
        }
        body["firings"] = try await store.firings(issue: issue.id).map { firing -> [String: any Sendable] in
            ["rule": firing.rule, "event_id": firing.eventID, "fired_at": Timestamp.text(firing.firedAt),
             "state": firing.state, "rule_set_version": firing.ruleSetVersion]
        }
        body["deliveries"] = try await store.deliveries(issue: issue.id).map(deliveryJSON)
        body["actions"] = try await store.actions(issue: issue.id).map { record -> [String: any Sendable] in
            var json: [String: any Sendable] = [
                "action": record.action, "by": record.actor.name, "surface": record.actor.surface,
                "at": Timestamp.text(record.at), "old_state": record.oldState, "new_state": record.newState,
                "summary": record.summary,
            ]
            json["email"] = record.actor.email
            return json
        }
        body["messages"] = try await store.messageHandles(issue: issue.id).map { handle -> [String: any Sendable] in
            var json: [String: any Sendable] = [
                "kind": handle.kind.rawValue, "target": handle.target, "channel": handle.channel, "channel_id": handle.channelID,
                "ref": handle.ref,
            ]
            json["thread_ref"] = handle.threadRef
            return json
        }
        return try JSONResponse(body)
    }

    // MARK: Actions

    /// `POST /api/v1/issues/<id>/actions` with `{"action": "resolve", "by": "alice@example.com"}`: the action
    /// in the form chat buttons carry (`resolve`, `resolve_next_release`, `unresolve`, `ignore:1800s`,
    /// `ignore:10events`, `ignore:forever`, `assign:<email>`, `unassign`, `ack`), on behalf of a Herald user
    /// when `by` names one, else of the admin token.
    private func act(_ request: Request, reference: String) async throws -> Response {
        guard let issue = try await store.issue(reference) else {
            throw APIError(.notFound, "no issue '\(reference.prefix(40))'", reason: "not_found")
        }
        let body = try await request.readBody(upTo: 64 << 10, within: actions.config.server.bodyTimeout)
        guard (try? JSONShape.check(body.readableBytesView)) != nil,
            let json = (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any]
        else {
            throw APIError.badRequest("the body must be a JSON object such as {\"action\": \"resolve\"}")
        }
        guard let text = json["action"] as? String else {
            throw APIError.badRequest("'action' is required", field: "action")
        }
        guard let action = IssueAction(text) else {
            throw APIError.badRequest(
                "unknown action '\(text.prefix(60))'; expected \(IssueAction.spelledOut)", field: "action")
        }
        var user: Config.User?
        if let email = json["by"] {
            guard let email = email as? String, let found = actions.config.user(email: email) else {
                throw APIError.badRequest("'by' must be the email of a user in the config", field: "by")
            }
            user = found
        }
        let actor = Actor(email: user?.email, name: user?.name ?? "an admin", surface: "the admin API")
        let outcome: ActionOutcome
        do {
            outcome = try await actions.perform(action, on: issue.id, actor: actor, user: user)
        } catch let refusal as IssueActions.Refusal {
            switch refusal {
            case .readOnly: throw APIError(.forbidden, refusal.description, field: "by", reason: "forbidden")
            case .unknownAssignee: throw APIError.badRequest(refusal.description, field: "action")
            }
        }
        var answer: [String: any Sendable] = ["issue": issueJSON(outcome.issue)]
        switch outcome {
        case .changed(_, let record):
            answer["outcome"] = "changed"
            answer["summary"] = record.summary
        case .unchanged: answer["outcome"] = "unchanged"
        case .duplicate: answer["outcome"] = "duplicate"
        }
        return try JSONResponse(answer)
    }

    // MARK: Deliveries

    /// `GET /api/v1/deliveries?status=failed,dead&issue=PAYMENTS-3&kind=slack&target=acme&limit=50&before=ID`,
    /// newest first; `next_before` continues the list.
    private func listDeliveries(_ request: Request) async throws -> Response {
        let parameters = request.uri.queryParameters
        var query = DeliveryQuery()
        if let text = parameters["status"].map(String.init) {
            for name in text.split(separator: ",") {
                guard let status = DeliveryStatus(rawValue: String(name)) else {
                    let names = DeliveryStatus.allCases.map(\.rawValue).joined(separator: ", ")
                    throw APIError.badRequest("unknown status '\(name)'; expected one of \(names)", field: "status")
                }
                query.statuses.append(status)
            }
        }
        if let text = parameters["issue"].map(String.init) {
            guard let issue = try await store.issue(text) else {
                throw APIError.badRequest("no issue '\(text.prefix(40))'", field: "issue")
            }
            query.issueID = issue.id
        }
        if let text = parameters["kind"].map(String.init) {
            guard let kind = DeliveryKind(rawValue: text) else {
                throw APIError.badRequest("unknown kind '\(text.prefix(40))'; expected \(DeliveryKind.spelledOut)", field: "kind")
            }
            query.kind = kind
        }
        query.target = parameters["target"].map(String.init)
        if let text = parameters["before"].map(String.init) {
            guard let before = Int64(text) else { throw APIError.badRequest("before must be a delivery id", field: "before") }
            query.beforeID = before
        }
        if let limit = try pageLimit(request) { query.limit = limit }
        let entries = try await store.deliveries(query)
        var body: [String: any Sendable] = ["deliveries": entries.map(deliveryJSON)]
        if entries.count == query.limit, let last = entries.last?.id { body["next_before"] = last }
        return try JSONResponse(body)
    }

    private func issueJSON(_ issue: Issue) -> [String: any Sendable] {
        var json: [String: any Sendable] = [
            "id": issue.id, "short_id": issue.shortID, "project": projects.project(id: issue.projectID)?.slug ?? "",
            "title": issue.title, "level": issue.level.name, "status": issue.status.rawValue,
            "substatus": issue.substatus.rawValue, "first_seen": Timestamp.text(issue.firstSeen),
            "last_seen": Timestamp.text(issue.lastSeen), "times_seen": issue.timesSeen, "users_seen": issue.usersSeen,
            "fingerprint": issue.fingerprint,
        ]
        json["culprit"] = issue.culprit
        json["last_release"] = issue.lastRelease
        json["assignee"] = issue.assignee?.description
        switch issue.ignore {
        case .forever: json["ignore"] = ["until": "forever"] as [String: any Sendable]
        case .until(let date): json["ignore"] = ["until": Timestamp.text(date)] as [String: any Sendable]
        case .untilMoreEvents(let count, let baseline):
            json["ignore"] = ["more_events": count, "events_left": max(0, count - (issue.timesSeen - baseline))]
                as [String: any Sendable]
        case nil: break
        }
        if let resolution = issue.resolution {
            var resolved: [String: any Sendable] = ["at": Timestamp.text(resolution.at)]
            resolved["in_next_release_after"] = resolution.inNextReleaseAfter
            json["resolution"] = resolved
        }
        return json
    }

    private func deliveryJSON(_ entry: OutboxRecord) -> [String: any Sendable] {
        var json: [String: any Sendable] = [
            "id": entry.id ?? 0, "issue_id": entry.issueID, "event_id": entry.eventID, "kind": entry.kind.rawValue,
            "target": entry.target, "rules": entry.rules, "tags": entry.tags, "status": entry.status.rawValue,
            "attempts": entry.attempts, "created_at": Timestamp.text(entry.createdAt),
            "updated_at": Timestamp.text(entry.updatedAt), "purpose": entry.purpose.rawValue,
        ]
        json["channel"] = entry.channel
        json["problem"] = entry.problem
        json["last_error"] = entry.lastError
        if entry.status.isOpen {
            json["next_attempt_at"] = Timestamp.text(entry.nextAttemptAt)
        }
        json["delivered_channel"] = entry.deliveredChannel
        json["delivered_ref"] = entry.deliveredRef
        json["delivered_at"] = entry.deliveredAt.map(Timestamp.text)
        if !entry.notes.isEmpty { json["notes"] = entry.notes }
        return json
    }

    // MARK: Rules

    private func rulesStatus() -> [String: any Sendable] {
        let loaded = rules.current
        let ruleSet = loaded.engine.ruleSet
        var body: [String: any Sendable] = [
            "version": ruleSet.version, "loaded_at": Timestamp.text(loaded.loadedAt), "files": ruleSet.files,
            "rules": ruleSet.rules.map { rule -> [String: any Sendable] in
                ["project": rule.project, "name": rule.name, "enabled": rule.enabled, "location": rule.location.description,
                 "regex_limit_hits": rule.regexLimitHits]
            },
        ]
        if let failure = rules.lastFailure {
            body["last_reload_error"] = [
                "at": Timestamp.text(failure.at), "errors": failure.diagnostics.all.map(\.description),
            ] as [String: any Sendable]
        }
        return body
    }
}

/// A 200 (or given status) answer with a JSON body built from dictionaries, arrays and scalars.
func JSONResponse(_ body: [String: any Sendable], status: HTTPResponse.Status = .ok) throws -> Response {
    var text = ""
    JSONWriter.write(body, into: &text)
    return Response(status: status, headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(string: text)))
}
