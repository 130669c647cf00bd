import Foundation
import HeraldCore
import Yams

/// Converts Sentry issue alert rules (the JSON of Sentry's project rules API, one rule or a list) into a
/// Herald rule file.
///
/// What Herald can express is converted exactly. A condition Herald cannot express is never dropped silently:
/// dropping a filter would widen the rule, so the rule is written with `enabled: false` and a warning says
/// what to finish by hand; a rule with no action Herald can perform is left out, with a warning.
public struct SentryRuleImporter: Sendable {
    /// The Herald project for rules whose JSON names none (Sentry's API lists `projects`).
    public var project: String?
    /// Sentry Slack integration ids to Herald workspace names; an unmapped id is kept as the name.
    public var workspaces: [String: String]

    public init(project: String? = nil, workspaces: [String: String] = [:]) {
        self.project = project
        self.workspaces = workspaces
    }

    public struct Result: Sendable {
        public var yaml: String
        public var ruleCount: Int
        public var warnings: [String]
    }

    public struct ImportError: Error, CustomStringConvertible {
        public var description: String
    }

    public func convert(json: Data) throws(ImportError) -> Result {
        let root: JSONValue
        do {
            try JSONShape.check(json)
            root = try JSONDecoder().decode(JSONValue.self, from: json)
        } catch {
            throw ImportError(description: "not valid JSON: \(error.localizedDescription)")
        }
        let rules: [[String: JSONValue]]
        switch root {
        case .array(let items): rules = items.compactMap { if case .object(let o) = $0 { o } else { nil } }
        case .object(let object): rules = [object]
        default: throw ImportError(description: "expected a rule object or a list of rules")
        }
        var warnings: [String] = []
        var byProject: [(project: String, rules: [Node])] = []
        for (position, rule) in rules.enumerated() {
            var converter = RuleConversion(rule: rule, workspaces: workspaces)
            let label = "rule \(position + 1) ('\(converter.name)')"
            guard let slug = (rule["projects"].flatMap(\.strings)?.first) ?? project else {
                throw ImportError(description: "\(label) names no project; pass --project SLUG")
            }
            let node = converter.convert()
            warnings += converter.warnings.map { "\(label): \($0)" }
            guard let node else { continue }
            if let index = byProject.firstIndex(where: { $0.project == slug }) {
                byProject[index].rules.append(node)
            } else {
                byProject.append((slug, [node]))
            }
        }
        guard !byProject.isEmpty else {
            throw ImportError(description: "no rule could be converted:\n  " + warnings.joined(separator: "\n  "))
        }
        let document: Node =
            byProject.count == 1
            ? .mapping(["project": .scalar(.init(byProject[0].project)), "rules": .sequence(.init(byProject[0].rules))])
            : .mapping(["projects": .sequence(.init(byProject.map {
                .mapping(["project": .scalar(.init($0.project)), "rules": .sequence(.init($0.rules))])
            }))])
        var header = "# Imported from Sentry by `herald rules import sentry`. Check it with `herald rules check`.\n"
        for warning in warnings { header += "# warning: \(warning)\n" }
        let body: String
        do {
            body = try Yams.serialize(node: document, width: -1, sortKeys: false)
        } catch {
            throw ImportError(description: "could not write YAML: \(error)")
        }
        return Result(yaml: header + body, ruleCount: byProject.map(\.rules.count).reduce(0, +), warnings: warnings)
    }
}

/// The conversion of one Sentry rule.
private struct RuleConversion {
    let rule: [String: JSONValue]
    let workspaces: [String: String]
    var warnings: [String] = []
    /// Set when part of the rule could not be expressed: the rule is then written disabled.
    var incomplete = false

    init(rule: [String: JSONValue], workspaces: [String: String]) {
        self.rule = rule
        self.workspaces = workspaces
    }

    var name: String { rule["name"]?.text ?? "unnamed rule" }

    mutating func convert() -> Node? {
        var triggers: [Node] = []
        var filters: [Node] = []
        var legacyFilters: [Node] = []
        for condition in list("conditions") {
            if let trigger = self.trigger(condition) {
                triggers.append(trigger)
            } else if let filter = self.filter(condition, legacy: true) {
                legacyFilters.append(filter)
            }
        }
        for item in list("filters") {
            if let filter = self.filter(item, legacy: false) { filters.append(filter) }
        }
        let actionMatch = text("actionMatch", "action_match") ?? "all"
        if !legacyFilters.isEmpty && actionMatch != "all" {
            // Old Sentry rules mixed attribute conditions into the trigger list; under "any" they widen the
            // rule in a way a separate `if` cannot say.
            unsupported("attribute conditions combined with '\(actionMatch)' over the triggers")
            legacyFilters = []
        }
        let actions = list("actions").compactMap { self.action($0) }
        guard !actions.isEmpty else {
            warnings.append("left out: none of its actions is one Herald can perform")
            return nil
        }
        guard !triggers.isEmpty else {
            warnings.append("left out: none of its triggers is one Herald has")
            return nil
        }

        var entries: [(Node, Node)] = [(key("name"), scalar(name))]
        let disabled = text("status") == "disabled" || incomplete
        if disabled { entries.append((key("enabled"), scalar("false"))) }
        if let owner = text("owner") { entries.append((key("owner"), scalar(owner))) }
        if let environment = text("environment") { entries.append((key("environment"), scalar(environment))) }
        entries.append((key("when"), group(triggers, match: actionMatch, plain: "any")))
        let filterMatch = text("filterMatch", "filter_match") ?? "all"
        var filterNode: Node? = filters.isEmpty ? nil : group(filters, match: filterMatch, plain: "all")
        if !legacyFilters.isEmpty {
            // Both the filters and the old attribute conditions must hold: one all-of list holding the
            // filters' own group (unless it is all-of already) and the conditions.
            let grouped: [Node] =
                filters.isEmpty ? [] : filterMatch == "all" ? filters : [.mapping([key(filterMatch): .sequence(.init(filters))])]
            filterNode = .sequence(.init(grouped + legacyFilters))
        }
        if let filterNode { entries.append((key("if"), filterNode)) }
        if let minutes = rule["frequency"]?.number {
            let clamped = min(max(Int(saturating: minutes), 1), 43_200)
            entries.append((key("frequency"), scalar(TimeSpan(seconds: clamped * 60).description)))
        }
        entries.append((key("then"), .sequence(.init(actions))))
        return .mapping(.init(entries))
    }

    // MARK: Triggers

    private mutating func trigger(_ item: [String: JSONValue]) -> Node? {
        let id = item["id"]?.text ?? ""
        switch id.split(separator: ".").last.map(String.init) ?? "" {
        case "FirstSeenEventCondition": return scalar("first_seen")
        case "RegressionEventCondition": return scalar("regression")
        case "ReappearedEventCondition": return scalar("reappeared")
        case "EveryEventCondition": return scalar("every_event")
        case "EventFrequencyCondition", "EventUniqueUserFrequencyCondition":
            let users = id.hasSuffix("EventUniqueUserFrequencyCondition")
            guard let value = item["value"]?.number, let window = interval(item["interval"]) else {
                unsupported("trigger \(id) with value \(item["value"]?.text ?? "?") and interval \(item["interval"]?.text ?? "?")")
                return nil
            }
            if (item["comparisonType"]?.text ?? "count") == "percent" {
                guard !users, let comparedTo = interval(item["comparisonInterval"]) else {
                    unsupported("percent comparison on \(id)")
                    return nil
                }
                return .mapping(["frequency_change": .mapping([
                    "percent": scalar(value.formatted), "interval": scalar(window.rawValue),
                    "compared_to": scalar(comparedTo.rawValue),
                ])])
            }
            guard (1...1_000_000_000).contains(value) else {
                unsupported("\(users ? "unique users" : "frequency") count \(item["value"]?.text ?? "?") (1 to 10⁹)")
                return nil
            }
            return .mapping([(users ? "unique_users" : "frequency"): .mapping([
                "count": scalar(String(Int(value))), "interval": scalar(window.rawValue),
            ])])
        case "EventAttributeCondition", "TaggedEventCondition", "LevelCondition":
            return nil  // attribute conditions of old rules: read as filters
        default:
            unsupported("trigger \(id)")
            return nil
        }
    }

    // MARK: Filters

    private mutating func filter(_ item: [String: JSONValue], legacy: Bool) -> Node? {
        let id = item["id"]?.text ?? ""
        switch id.split(separator: ".").last.map(String.init) ?? "" {
        case "LevelFilter", "LevelCondition":
            guard let raw = item["level"]?.number, let level = Level(rawValue: Int(raw)),
                let match = item["match"]?.text, ["eq", "gte", "lte"].contains(match)
            else {
                unsupported("level filter \(item["match"]?.text ?? "?") \(item["level"]?.text ?? "?")")
                return nil
            }
            return .mapping(["level": .mapping([key(match): scalar(level.name)])])
        case "TaggedEventFilter", "TaggedEventCondition":
            guard let tagKey = item["key"]?.text, let match = valueMatch(item) else { return nil }
            return .mapping(["tag": .mapping(.init([(key("key"), scalar(tagKey)), match]))])
        case "EventAttributeFilter", "EventAttributeCondition":
            guard let attribute = item["attribute"]?.text else {
                unsupported("attribute filter without an attribute")
                return nil
            }
            guard EventAttribute(name: attribute) != nil else {
                unsupported("attribute '\(attribute)', which Herald does not know")
                return nil
            }
            guard let match = valueMatch(item) else { return nil }
            return .mapping(["attribute": .mapping(.init([(key("name"), scalar(attribute)), match]))])
        case "AgeComparisonFilter":
            let units = ["minute": 60, "hour": 3_600, "day": 86_400, "week": 604_800]
            guard let comparison = item["comparison_type"]?.text, ["older", "newer"].contains(comparison),
                let value = item["value"]?.number, value > 0, value <= 3_650, let unit = item["time"]?.text.flatMap({ units[$0] })
            else {
                unsupported("age filter \(item["comparison_type"]?.text ?? "?") \(item["value"]?.text ?? "?")")
                return nil
            }
            let span = TimeSpan(seconds: Int(value) * unit)
            return .mapping(["age": .mapping([key(comparison + "_than"): scalar(span.description)])])
        case "IssueOccurrencesFilter":
            guard let value = item["value"]?.number, (0...2_147_483_647).contains(value) else {
                unsupported("occurrences filter with the value \(item["value"]?.text ?? "none") (0 to 2147483647)")
                return nil
            }
            return .mapping(["occurrences": .mapping(["gte": scalar(String(Int(value)))])])
        case "AssignedToFilter":
            if item["targetType"]?.text == "Unassigned" { return .mapping(["assigned_to": scalar("unassigned")]) }
            unsupported("assigned_to \(item["targetType"]?.text ?? "?") \(item["targetIdentifier"]?.text ?? ""): "
                + "Sentry names people and teams by id; write {user: email} or {team: name}")
            return nil
        case "LatestReleaseFilter":
            return scalar("latest_release")
        case "IssueCategoryFilter":
            // Category 1 is "error", the only kind of issue Herald has, so the filter always holds.
            if item["value"]?.number == 1 { return nil }
            unsupported("issue category \(item["value"]?.text ?? "?"): Herald only has error issues")
            return nil
        default:
            unsupported("\(legacy ? "condition" : "filter") \(id)")
            return nil
        }
    }

    /// Sentry's `match` and `value` as a Herald operator entry.
    private mutating func valueMatch(_ item: [String: JSONValue]) -> (Node, Node)? {
        let operators = [
            "eq": "eq", "ne": "ne", "sw": "starts_with", "nsw": "not_starts_with", "ew": "ends_with",
            "new": "not_ends_with", "co": "contains", "nc": "not_contains", "is": "is_set", "ns": "not_set",
            "in": "in", "nin": "not_in", "gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte",
        ]
        guard let match = item["match"]?.text, let op = operators[match] else {
            unsupported("match operator '\(item["match"]?.text ?? "?")'")
            return nil
        }
        switch op {
        case "is_set", "not_set":
            return (key(op), scalar("true"))
        case "in", "not_in":
            let values = (item["value"]?.text ?? "").split(separator: ",")
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            return (key(op), .sequence(.init(values.map(scalar))))
        default:
            guard let value = item["value"]?.text, !value.isEmpty else {
                unsupported("'\(match)' with no value")
                return nil
            }
            return (key(op), scalar(value))
        }
    }

    // MARK: Actions

    private mutating func action(_ item: [String: JSONValue]) -> Node? {
        let id = item["id"]?.text ?? ""
        switch id.split(separator: ".").last.map(String.init) ?? "" {
        case "SlackNotifyServiceAction":
            guard let channel = item["channel"]?.text ?? item["channel_id"]?.text else {
                warnings.append("a Slack action without a channel was left out")
                return nil
            }
            let sentryWorkspace = item["workspace"]?.text ?? "slack"
            let workspace = workspaces[sentryWorkspace] ?? sentryWorkspace
            if workspaces[sentryWorkspace] == nil {
                warnings.append("Slack workspace id \(sentryWorkspace) kept as the workspace name; "
                    + "map it with --workspace \(sentryWorkspace)=NAME")
            }
            var entries: [(Node, Node)] = [
                (key("workspace"), scalar(workspace)), (key("channels"), .sequence([scalar(channel)])),
            ]
            let tags = (item["tags"]?.text ?? "").split(separator: ",")
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            if !tags.isEmpty { entries.append((key("tags"), .sequence(.init(tags.map(scalar))))) }
            if let notes = item["notes"]?.text, !notes.isEmpty { entries.append((key("notes"), scalar(notes))) }
            return .mapping(["slack": .mapping(.init(entries))])
        case "NotifyEventServiceAction" where item["service"]?.text == "webhooks":
            warnings.append("the legacy webhooks plugin became webhook 'webhooks'; define it in the config")
            return .mapping(["webhook": .mapping(["name": scalar("webhooks")])])
        default:
            warnings.append("action \(id)\(item["service"]?.text.map { " (\($0))" } ?? "") has no Herald "
                + "equivalent and was left out")
            return nil
        }
    }

    // MARK: Helpers

    private mutating func unsupported(_ what: String) {
        warnings.append("\(what) cannot be expressed in Herald; the rule is written disabled until you finish it")
        incomplete = true
    }

    private func interval(_ value: JSONValue?) -> Interval? { value?.text.flatMap(Interval.init(rawValue:)) }

    private func list(_ field: String) -> [[String: JSONValue]] {
        guard case .array(let items)? = rule[field] else { return [] }
        return items.compactMap { if case .object(let object) = $0 { object } else { nil } }
    }

    private func text(_ keys: String...) -> String? { keys.lazy.compactMap { rule[$0]?.text }.first }

    private func group(_ members: [Node], match: String, plain: String) -> Node {
        if match == plain || members.count == 1 && match != "none" { return .sequence(.init(members)) }
        return .mapping([key(["any", "all", "none"].contains(match) ? match : plain): .sequence(.init(members))])
    }
}

private func key(_ text: String) -> Node { .scalar(.init(text)) }
private func scalar(_ text: String) -> Node { .scalar(.init(text)) }

extension JSONValue {
    fileprivate var text: String? {
        switch self {
        case .string(let value): value
        case .number, .bool: scalarTexts.first
        default: nil
        }
    }

    fileprivate var number: Double? {
        switch self {
        case .number(let value): value
        case .string(let value): Double(value)
        default: nil
        }
    }

    fileprivate var strings: [String]? {
        guard case .array(let items) = self else { return nil }
        return items.compactMap(\.text)
    }
}
