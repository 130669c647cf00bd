import Foundation
import HeraldConfig
import HeraldCore
import HeraldStore
import Hummingbird
import Logging
import NIOCore

/// The admin API (`/api/v1/issues…`) and the rule endpoints (`/-/reload`, `/-/rules`), behind the admin token.
struct AdminRoutes {
    let store: Store
    let projects: ProjectDirectory
    let rules: RuleBook
    let adminToken: Secret?
    let metrics: HeraldMetrics
    let logger: Logger

    func register(on router: Router<BasicRequestContext>) {
        router.get("/api/v1/issues") { request, _ in
            try authorize(request)
            return try await listIssues(request)
        }
        router.get("/api/v1/issues/:id") { request, context in
            try authorize(request)
            return try await showIssue(context.parameters.get("id") ?? "")
        }
        router.post("/-/reload") { request, _ in
            try authorize(request)
            let outcome = RuleReloader.reload(rules, because: "POST /-/reload", metrics: metrics, logger: logger)
            switch outcome {
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
        router.get("/-/rules") { request, _ in
            try authorize(request)
            return try JSONResponse(rulesStatus())
        }
    }

    private func authorize(_ request: Request) throws(APIError) {
        guard let expected = adminToken else {
            throw APIError(.unauthorized, "no admin_token is configured, so the admin API is closed", reason: "unauthorized")
        }
        guard let token = BearerToken(request.headers[.authorization]) else {
            throw .unauthorized("send the admin token as 'Authorization: Bearer <token>'")
        }
        guard ConstantTime.equal(token.value, expected.value) else { throw .unauthorized("wrong admin token") }
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
        if let text = parameters["limit"].map(String.init) {
            guard let limit = Int(text), (1...500).contains(limit) else {
                throw APIError.badRequest("limit must be 1 to 500", field: "limit")
            }
            query.limit = limit
        }
        let page = try await store.issues(query)
        var body: [String: any Sendable] = ["issues": page.issues.map(issueJSON)]
        body["next_cursor"] = page.nextCursor?.text
        return try JSONResponse(body)
    }

    private func showIssue(_ reference: String) async throws -> Response {
        guard let issue = try await store.issue(reference) else {
            throw APIError(.notFound, "no issue '\(reference.prefix(40))'", reason: "not_found")
        }
        var body = issueJSON(issue)
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

    private func deliveryJSON(_ entry: OutboxEntry) -> [String: any Sendable] {
        var json: [String: any Sendable] = [
            "id": entry.id, "event_id": entry.eventID, "kind": entry.kind, "target": entry.target, "rules": entry.rules,
            "tags": entry.tags, "status": entry.status, "attempts": entry.attempts,
            "created_at": Timestamp.text(entry.createdAt),
        ]
        json["channel"] = entry.channel
        json["problem"] = entry.problem
        json["last_error"] = entry.lastError
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
                ["project": rule.project, "name": rule.name, "enabled": rule.enabled, "location": rule.location.description]
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

/// JSON that is already encoded, placed as is.
struct RawJSON: Sendable {
    var data: Data
}

/// RFC 3339 in UTC with milliseconds.
enum Timestamp {
    static func text(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}

/// A 200 (or given status) answer with a JSON body built from dictionaries, arrays and scalars.
func JSONResponse(_ body: [String: any Sendable], status: HTTPResponse.Status = .ok) throws -> Response {
    var text = ""
    JSONWriter.write(body, into: &text)
    return Response(status: status, headers: [.contentType: "application/json"],
                    body: .init(byteBuffer: ByteBuffer(string: text)))
}

/// Writes JSON with keys sorted, so answers are stable and easy to read.
enum JSONWriter {
    static func write(_ value: (any Sendable)?, into text: inout String) {
        switch value {
        case nil: text += "null"
        case let string as String: string_(string, into: &text)
        case let bool as Bool: text += bool ? "true" : "false"
        case let int as Int: text += String(int)
        case let int as Int64: text += String(int)
        case let double as Double: text += double.isFinite ? String(double) : "null"
        case let raw as RawJSON: text += String(decoding: raw.data, as: UTF8.self)
        case let array as [any Sendable]:
            text += "["
            for (index, element) in array.enumerated() {
                if index > 0 { text += "," }
                write(element, into: &text)
            }
            text += "]"
        case let object as [String: any Sendable]:
            text += "{"
            for (index, key) in object.keys.sorted().enumerated() {
                if index > 0 { text += "," }
                string_(key, into: &text)
                text += ":"
                write(object[key]!, into: &text)
            }
            text += "}"
        default:
            string_(String(describing: value!), into: &text)
        }
    }

    private static func string_(_ string: String, into text: inout String) {
        text += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case let control where control.value < 0x20:
                text += String(format: "\\u%04x", control.value)
            default: text.unicodeScalars.append(scalar)
            }
        }
        text += "\""
    }
}
