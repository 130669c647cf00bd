import Foundation
import HeraldConfig
import HeraldCore
import HeraldRules
import HeraldStore

/// What the issue list was asked for, read from the query string (`/issues?project=payments&status=unresolved`).
public struct IssueListRequest: Sendable {
    public var project: String?
    public var status: IssueStatus?
    public var level: Level?
    public var environment: String?
    /// An email, or `me` for the viewer.
    public var assignee: String?
    public var text: String?
    public var order: IssueOrder = .lastSeen
    public var cursor: IssueCursor?

    public init() {}

    /// Reads the parameters; an unknown value is a problem to show, never a crash or a silent default.
    public init(parameters: [String: String]) throws(PageProblem) {
        func value(_ name: String) -> String? {
            parameters[name].map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : String($0.prefix(200)) }
        }
        project = value("project")
        if let text = value("status") {
            guard let status = IssueStatus(rawValue: text) else { throw PageProblem("unknown status '\(text)'") }
            self.status = status
        }
        if let text = value("level") {
            guard let level = Level(name: text) else { throw PageProblem("unknown level '\(text)'") }
            self.level = level
        }
        environment = value("environment")
        assignee = value("assignee")
        text = value("q")
        if let text = value("sort") {
            guard let order = IssueOrder(rawValue: text) else { throw PageProblem("unknown sort '\(text)'") }
            self.order = order
        }
        if let text = value("cursor") {
            guard let cursor = IssueCursor(text: text) else { throw PageProblem("not a cursor from a previous page") }
            self.cursor = cursor
        }
    }

    /// The query string of this request, with `cursor` replaced.
    func query(cursor: IssueCursor?) -> String {
        var pairs: [(String, String)] = []
        if let project { pairs.append(("project", project)) }
        if let status { pairs.append(("status", status.rawValue)) }
        if let level { pairs.append(("level", level.name)) }
        if let environment { pairs.append(("environment", environment)) }
        if let assignee { pairs.append(("assignee", assignee)) }
        if let text { pairs.append(("q", text)) }
        if order != .lastSeen { pairs.append(("sort", order.rawValue)) }
        if let cursor { pairs.append(("cursor", cursor.text)) }
        return FormEncoding.encode(pairs)
    }
}

/// A request a page cannot answer, with what to tell the person.
public struct PageProblem: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension ConsolePages {
    /// `/issues`.
    public func issues(_ request: IssueListRequest, viewer: Viewer, flash: String? = nil) async throws(PageProblem) -> String {
        var query = IssueQuery(status: request.status, cursor: request.cursor, limit: 50)
        if let project = request.project {
            guard let found = Int(project).flatMap(config.project(id:)) ?? config.project(slug: project) else {
                throw PageProblem("no project '\(project)'")
            }
            query.projectID = found.id
        }
        query.level = request.level
        query.environment = request.environment
        query.assignee = request.assignee == "me" ? viewer.user.email : request.assignee
        query.text = request.text
        query.order = request.order
        let page: HeraldStore.IssuePage
        let environments: [String]
        do {
            page = try await store.issues(query)
            environments = try await store.environments()
        } catch {
            throw PageProblem("the issues could not be read: \(error)")
        }
        struct Row {
            var id: Int64
            var shortID: String
            var title: String
            var level: String
            var stateText: String
            var culprit: String?
            var assignee: String?
            var events: Int
            var users: Int
            var lastSeen: Moment
        }
        struct Page {
            var title = "Issues"
            var nav = Navigation(issues: true)
            var stylesheet = Stylesheet.path
            var viewer: ViewerModel
            var csrf: String
            var flash: String?
            var canAct: Bool
            var projects: [Choice]
            var statuses: [Choice]
            var levels: [Choice]
            var environments: [Choice]
            var assignees: [Choice]
            var sorts: [Choice]
            var query: String
            var rows: [Row]
            var hasRows: Bool
            var next: String?
            var back: String
        }
        let rows = page.issues.map { issue in
            Row(id: issue.id, shortID: issue.shortID, title: issue.title, level: issue.level.name,
                stateText: issue.stateDescription, culprit: issue.culprit, assignee: issue.assignee?.description,
                events: issue.timesSeen, users: issue.usersSeen, lastSeen: Moment(issue.lastSeen))
        }
        let rendered = Page(
            viewer: ViewerModel(viewer), csrf: viewer.csrf, flash: flash, canAct: viewer.canAct,
            projects: config.projects.map { Choice(value: $0.slug, label: $0.slug, selected: $0.id == query.projectID) },
            statuses: IssueStatus.allCases.map { Choice(value: $0.rawValue, label: $0.rawValue, selected: $0 == request.status) },
            levels: Level.allCases.map { Choice(value: $0.name, label: $0.name, selected: $0 == request.level) },
            environments: environments.map { Choice(value: $0, label: $0, selected: $0 == request.environment) },
            assignees: [Choice(value: "me", label: "me", selected: request.assignee == "me")]
                + config.users.filter { $0.role != .stakeholder }.map {
                    Choice(value: $0.email, label: $0.name, selected: $0.email == request.assignee)
                },
            sorts: [("last_seen", "last seen"), ("first_seen", "first seen"), ("events", "events"), ("users", "users")].map {
                Choice(value: $0.0, label: $0.1, selected: $0.0 == request.order.rawValue)
            },
            query: request.text ?? "", rows: rows, hasRows: !rows.isEmpty,
            next: page.nextCursor.map { "/issues?" + request.query(cursor: $0) },
            back: "/issues" + (request.query(cursor: request.cursor).isEmpty ? "" : "?" + request.query(cursor: request.cursor)))
        return renderer.render(rendered, as: "issues")
    }

    /// `/rules`, with the verdicts of an explain run when one was asked for.
    public func rules(viewer: Viewer, explained: ExplainResult? = nil, now: Date = Date()) async throws -> String {
        let loaded = rules()
        let ruleSet = loaded.engine.ruleSet
        let firings = try await store.firingCounts(since: now.addingTimeInterval(-86_400))
        struct RuleRow {
            var name: String
            var location: String
            var firings: Int
            var enabled: Bool
            var regexLimitHits: Int?
        }
        struct ProjectRules {
            var slug: String
            var rules: [RuleRow]
        }
        struct ReloadError {
            var at: Moment
            var errors: [String]
        }
        struct Explained {
            var subject: String
            var rules: [IssuePage.RuleVerdict]
            var deliveries: [String]
            /// Stored, not computed: templates see stored properties only.
            var hasDeliveries: Bool
        }
        struct Page {
            var title = "Rules"
            var nav = Navigation(rules: true)
            var stylesheet = Stylesheet.path
            var viewer: ViewerModel
            var csrf: String
            var version: String
            var loadedAt: Moment
            var fileCount: Int
            var reloadError: ReloadError?
            var projects: [ProjectRules]
            var explainIssue: String
            var explainJSON: String
            var explainProblem: String?
            var explained: Explained?
        }
        let projects = Dictionary(grouping: ruleSet.rules, by: \.project).keys.sorted().map { slug in
            let projectID = config.project(slug: slug)?.id ?? -1
            return ProjectRules(slug: slug, rules: ruleSet.rules.filter { $0.project == slug }.map { rule in
                RuleRow(name: rule.name, location: rule.location.description,
                        firings: firings[RuleKey(projectID: projectID, rule: rule.name)] ?? 0, enabled: rule.enabled,
                        regexLimitHits: rule.regexLimitHits > 0 ? rule.regexLimitHits : nil)
            })
        }
        let page = Page(
            viewer: ViewerModel(viewer), csrf: viewer.csrf, version: String(ruleSet.version.prefix(12)),
            loadedAt: Moment(loaded.loadedAt), fileCount: ruleSet.files.count,
            reloadError: loaded.failure.map { ReloadError(at: Moment($0.at), errors: $0.errors) }, projects: projects,
            explainIssue: explained?.issue ?? "", explainJSON: explained?.json ?? "", explainProblem: explained?.problem,
            explained: explained?.explanation.map { explanation in
                Explained(
                    subject: explained?.subject ?? "the event",
                    rules: explanation.rules.map { IssuePage.RuleVerdict(name: $0.name, matched: $0.matched, reason: $0.reason, location: $0.location.description) },
                    deliveries: explanation.deliveries.map { delivery in
                        "\(delivery.kind.rawValue) \(delivery.target)" + (delivery.channel.map { " " + $0 } ?? "")
                            + " (rules: \(delivery.rules.joined(separator: ", ")))"
                    }, hasDeliveries: !explanation.deliveries.isEmpty)
            })
        return renderer.render(page, as: "rules")
    }

    /// Explains the latest event of an issue (by id or short id) or an event given as `herald explain` JSON.
    public func explain(issue reference: String, json: String, now: Date = Date()) async -> ExplainResult {
        var result = ExplainResult(issue: reference, json: json)
        let engine = rules().engine
        do {
            if !reference.isEmpty {
                guard let issue = try await store.issue(reference) else {
                    result.problem = "There is no issue '\(reference.prefix(40))'."
                    return result
                }
                guard let latest = try await store.events(issue: issue.id, limit: 1).first,
                    let event = try? JSONDecoder().decode(Event.self, from: latest.payload)
                else {
                    result.problem = "\(issue.shortID) has no stored event to explain."
                    return result
                }
                let project = config.project(id: issue.projectID)?.slug ?? ""
                result.subject = "the latest event of \(issue.shortID)"
                result.explanation = try await store.explain(
                    event, project: project, issue: issue, state: Self.state(of: issue), at: now, engine: engine)
            } else if !json.isEmpty {
                let input = try ExplainInput(json: Data(json.utf8), now: now)
                result.subject = "the pasted event (project \(input.project))"
                result.explanation = engine.explain(input.event, context: input.context)
            } else {
                result.problem = "Give an issue or paste an event."
            }
        } catch let error as ExplainInput.InvalidInput {
            result.problem = "The event cannot be explained: \(error.description)"
        } catch {
            result.problem = "The event cannot be explained: \(error)"
        }
        return result
    }

    /// `/deliveries`.
    public func deliveries(
        _ query: DeliveryQuery, filters: [String: String], viewer: Viewer, flash: String? = nil
    ) async throws -> String {
        let entries = try await store.deliveries(query)
        var labels: [Int64: String] = [:]
        for id in Set(entries.map(\.issueID)) { labels[id] = try await store.issue(String(id))?.shortID }
        struct Row {
            var id: Int64
            var issueID: Int64
            var issueLabel: String
            var purpose: String
            var kind: String
            var target: String
            var channel: String
            var status: String
            var attempts: Int
            var updated: Moment
            var lastError: String?
            var retryable: Bool
            var csrf: String
        }
        struct Count {
            var status: String
            var count: Int
        }
        struct Page {
            var title = "Deliveries"
            var nav = Navigation(deliveries: true)
            var stylesheet = Stylesheet.path
            var viewer: ViewerModel
            var csrf: String
            var flash: String?
            var statuses: [Choice]
            var kinds: [Choice]
            var target: String
            var issue: String
            var counts: [Count]
            var rows: [Row]
            var next: String?
        }
        let counts = try await store.deliveryCounts()
        let rows = entries.map { entry in
            Row(id: entry.id ?? 0, issueID: entry.issueID, issueLabel: labels[entry.issueID] ?? String(entry.issueID),
                purpose: entry.purpose == .alert ? "" : entry.purpose.rawValue, kind: entry.kind.rawValue,
                target: entry.target, channel: entry.channel ?? entry.deliveredChannel ?? "", status: entry.status.rawValue,
                attempts: entry.attempts, updated: Moment(entry.updatedAt), lastError: entry.lastError ?? entry.problem,
                retryable: viewer.canAct && (entry.status == .failed || entry.status == .dead), csrf: viewer.csrf)
        }
        var next: String?
        if entries.count == query.limit, let last = entries.last?.id {
            var pairs = filters.filter { $0.key != "before" }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            pairs.append(("before", String(last)))
            next = "/deliveries?" + FormEncoding.encode(pairs)
        }
        let page = Page(
            viewer: ViewerModel(viewer), csrf: viewer.csrf, flash: flash,
            statuses: DeliveryStatus.allCases.map {
                Choice(value: $0.rawValue, label: $0.rawValue, selected: query.statuses == [$0])
            },
            kinds: DeliveryKind.allCases.map { Choice(value: $0.rawValue, label: $0.rawValue, selected: $0 == query.kind) },
            target: query.target ?? "", issue: filters["issue"] ?? "",
            counts: DeliveryStatus.allCases.map { Count(status: $0.rawValue, count: counts[$0] ?? 0) }, rows: rows, next: next)
        return renderer.render(page, as: "deliveries")
    }
}

/// An explain run from the rules page: what was asked, and the verdicts or the problem.
public struct ExplainResult: Sendable {
    public var issue: String
    public var json: String
    public var subject: String?
    public var explanation: Explanation?
    public var problem: String?
}

extension IssuePage {
    /// A rule's verdict in the explain table.
    struct RuleVerdict {
        var name: String
        var matched: Bool
        var reason: String
        var location: String
    }
}
