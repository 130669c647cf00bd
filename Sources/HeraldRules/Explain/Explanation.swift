import Foundation
import HeraldConfig
import HeraldCore

/// Why each rule of a project did or did not match one event, and the deliveries that follow: the answer to
/// an admin's "why didn't my rule fire?".
public struct Explanation: Sendable {
    public struct Verdict: Sendable, Hashable {
        public var project: String
        public var name: String
        public var matched: Bool
        /// For a match, what made it fire; for a miss, the first condition that failed and what it saw.
        public var reason: String
        public var location: SourceLocation
    }

    public var rules: [Verdict]
    public var deliveries: [Delivery]
}

extension RuleEngine {
    /// Explains every rule of the event's project, in rule-set order, walking each rule as written (the
    /// environment, then `if`, then `when`, as Sentry evaluates them) and reporting the first failure.
    public func explain(_ event: Event, context: EvaluationContext) -> Explanation {
        let verdicts = ruleSet.rules.filter { $0.project == context.project }.map { rule in
            Self.verdict(for: rule, event: event, context: context)
        }
        return Explanation(rules: verdicts, deliveries: evaluate(event, context: context).deliveries)
    }

    private static func verdict(for rule: Rule, event: Event, context: EvaluationContext) -> Explanation.Verdict {
        func verdict(_ matched: Bool, _ reason: String) -> Explanation.Verdict {
            Explanation.Verdict(project: rule.project, name: rule.name, matched: matched, reason: reason,
                                location: rule.location)
        }
        guard rule.enabled else { return verdict(false, "the rule is disabled (enabled: false)") }
        if let environment = rule.environment, environment != event.environment {
            return verdict(false, "environment is \(event.environment.map { "\"\($0)\"" } ?? "not set"), "
                + "the rule needs \"\(environment)\"")
        }
        let filters = trace(rule.filters) { filter in
            (filter.test(event: event, context: context), filter.actual(event: event, context: context))
        }
        guard filters.passed else { return verdict(false, "if: \(filters.reason)") }
        let triggers = trace(rule.triggers) { trigger in
            var counts = DirectCounts(counts: context.counts)
            return (trigger.test(state: context.issue.state, counts: &counts), trigger.actual(context: context))
        }
        guard triggers.passed else { return verdict(false, "when: \(triggers.reason)") }
        let filterNote = rule.filters == .all([]) ? "no filters" : "all filters passed"
        return verdict(true, "when: \(triggers.reason); \(filterNote)")
    }

    /// Evaluates a condition as written, saying which leaves decided it.
    private static func trace<Leaf>(
        _ condition: Condition<Leaf>, leaf: (Leaf) -> (passed: Bool, actual: String)
    ) -> (passed: Bool, reason: String) {
        switch condition {
        case .leaf(let value):
            let (passed, actual) = leaf(value)
            return (passed, "\(value) (\(actual))")
        case .all(let members):
            var reasons: [String] = []
            for member in members {
                let result = trace(member, leaf: leaf)
                if !result.passed { return (false, result.reason) }
                reasons.append(result.reason)
            }
            return (true, reasons.joined(separator: " and "))
        case .any(let members):
            var reasons: [String] = []
            for member in members {
                let result = trace(member, leaf: leaf)
                if result.passed { return (true, result.reason) }
                reasons.append(result.reason)
            }
            return (false, "none of: " + reasons.joined(separator: "; "))
        case .none(let members):
            for member in members {
                let result = trace(member, leaf: leaf)
                if result.passed { return (false, "excluded by: \(result.reason)") }
            }
            return (true, "none of \(members.count) excluded condition(s) held")
        }
    }
}

extension Explanation {
    /// The report `herald explain` prints.
    public var text: String {
        var lines: [String] = []
        for rule in rules {
            lines.append("\(rule.matched ? "MATCH" : "miss ")  \(rule.project) / \(rule.name)  (\(rule.location))")
            lines.append("       \(rule.reason)")
        }
        if rules.isEmpty { lines.append("no rules for this project") }
        lines.append("")
        if deliveries.isEmpty {
            lines.append("deliveries: none")
        } else {
            lines.append("deliveries:")
            for delivery in deliveries {
                var line = "  \(delivery.kind.rawValue) \(delivery.target)"
                if let channel = delivery.channel { line += " \(channel)" }
                line += "  rules: \(delivery.rules.joined(separator: ", "))"
                if !delivery.tags.isEmpty { line += "  tags: \(delivery.tags.joined(separator: ", "))" }
                if let problem = delivery.problem { line += "  problem: \(problem)" }
                lines.append(line)
            }
        }
        return lines.joined(separator: "\n")
    }

    /// `{"rules":[{project,name,matched,reason}],"deliveries":[{kind,target,channel,rules,tags}]}`.
    public var json: String {
        struct Output: Encodable {
            struct RuleOutput: Encodable {
                var project, name: String
                var matched: Bool
                var reason: String
                var location: String
            }
            struct DeliveryOutput: Encodable {
                var kind, target: String
                var channel: String?
                var rules, tags, notes: [String]
                var problem: String?
            }
            var rules: [RuleOutput]
            var deliveries: [DeliveryOutput]
        }
        let output = Output(
            rules: rules.map { .init(project: $0.project, name: $0.name, matched: $0.matched, reason: $0.reason,
                                     location: $0.location.description) },
            deliveries: deliveries.map { .init(kind: $0.kind.rawValue, target: $0.target, channel: $0.channel,
                                               rules: $0.rules, tags: $0.tags, notes: $0.notes, problem: $0.problem) })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try! encoder.encode(output), as: UTF8.self)
    }
}
