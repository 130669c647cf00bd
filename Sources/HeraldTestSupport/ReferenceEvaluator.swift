import Foundation
import HeraldCore
import HeraldRules

/// The rule semantics written out as plainly as possible: walks every rule of every project, with no index,
/// no sharing and no reordering. The compiled engine must agree with it on every input (the differential
/// test), and the benchmark measures how much faster the engine is.
///
/// Written independently of the engine's own leaf code, from the rule-language reference, so that a mistake
/// in one is not silently repeated in the other. It shares only HeraldCore's string primitives with the
/// engine, so that the benchmark compares evaluation strategies, not string libraries.
public struct ReferenceEvaluator: Sendable {
    public let ruleSet: RuleSet

    public init(ruleSet: RuleSet) {
        self.ruleSet = ruleSet
    }

    /// The matching rules and their deliveries: the same result the engine gives.
    public func evaluate(_ event: Event, context: EvaluationContext) -> Evaluation {
        let matched = matchingRules(event, context: context)
        return Evaluation(matched: matched, deliveries: RuleEngine.deliveries(for: matched, event: event))
    }

    /// The matching rules, in rule-set order.
    public func matchingRules(_ event: Event, context: EvaluationContext) -> [Rule] {
        var matched: [Rule] = []
        for rule in ruleSet.rules {
            guard rule.project == context.project, rule.enabled else { continue }
            if let environment = rule.environment, event.environment != environment { continue }
            guard holds(rule.filters, { filterPasses($0, event, context) }) else { continue }
            guard holds(rule.triggers, { triggerPasses($0, context) }) else { continue }
            matched.append(rule)
        }
        return matched
    }

    private func holds<Leaf>(_ condition: Condition<Leaf>, _ leaf: (Leaf) -> Bool) -> Bool {
        switch condition {
        case .leaf(let value): return leaf(value)
        case .all(let members):
            var result = true
            for member in members { result = holds(member, leaf) && result }
            return result
        case .any(let members):
            var result = false
            for member in members { result = holds(member, leaf) || result }
            return result
        case .none(let members):
            var anyHeld = false
            for member in members { anyHeld = holds(member, leaf) || anyHeld }
            return !anyHeld
        }
    }

    private func triggerPasses(_ trigger: Trigger, _ context: EvaluationContext) -> Bool {
        let counts = context.counts
        switch trigger {
        case .firstSeen: return context.issue.state == .new
        case .regression: return context.issue.state == .regression
        case .reappeared: return context.issue.state == .reappeared
        case .everyEvent: return true
        case .frequency(let count, let window): return counts.count(.events, in: window, endingAgo: nil) > count
        case .uniqueUsers(let count, let window): return counts.count(.users, in: window, endingAgo: nil) > count
        case .frequencyChange(let percent, let window, let comparedTo):
            let now = counts.count(.events, in: window, endingAgo: nil)
            let before = counts.count(.events, in: window, endingAgo: comparedTo)
            if before == 0 { return 0 > percent }
            return Double(now - before) / Double(before) * 100 > percent
        }
    }

    private func filterPasses(_ filter: Filter, _ event: Event, _ context: EvaluationContext) -> Bool {
        switch filter {
        case .level(let comparison, let level):
            let actual = event.level.rawValue, expected = level.rawValue
            switch comparison {
            case .eq: return actual == expected
            case .ne: return actual != expected
            case .gt: return actual > expected
            case .gte: return actual >= expected
            case .lt: return actual < expected
            case .lte: return actual <= expected
            }
        case .tag(let key, let match):
            let values = event.tags.filter { $0.key.lowercased() == key.lowercased() }.map(\.value)
            return matchPasses(match, values)
        case .attribute(let attribute, let match):
            return matchPasses(match, event.values(of: attribute))
        case .age(let comparison, let span):
            let seconds = context.now.timeIntervalSince(context.issue.firstSeen)
            return comparison == .olderThan ? seconds > Double(span.seconds) : seconds < Double(span.seconds)
        case .occurrences(let count):
            return context.issue.timesSeen >= count
        case .assignedTo(let match):
            switch (match, context.issue.assignee) {
            case (.unassigned, nil): return true
            case (.user(let email), .user(let actual)?): return email.lowercased() == actual.lowercased()
            case (.team(let name), .team(let actual)?): return name.lowercased() == actual.lowercased()
            default: return false
            }
        case .latestRelease:
            return event.release != nil && event.release == context.latestRelease
        }
    }

    private func matchPasses(_ match: ValueMatch, _ values: [String]) -> Bool {
        let lower = values.map { $0.lowercased() }
        func text() -> String {
            if case .text(let operand) = match.operand { return operand.lowercased() }
            return ""
        }
        func list() -> [String] {
            if case .list(let items) = match.operand { return items.map { $0.lowercased() } }
            return []
        }
        func number(_ compare: (Double, Double) -> Bool) -> Bool {
            guard case .number(let bound) = match.operand else { return false }
            return values.contains { Double($0.trimmingWhitespace).map { compare($0, bound) } ?? false }
        }
        /// Whether the values match, do not match, or a match gave up at its limit (then neither holds).
        func regex(_ wanted: Pattern.Outcome) -> Bool {
            guard case .pattern(let pattern) = match.operand else { return false }
            let outcomes = values.map { pattern.evaluate($0) }
            return wanted == .match ? outcomes.contains(.match) : outcomes.allSatisfy { $0 == .noMatch }
        }
        switch match.op {
        case .eq: return lower.contains { $0.sameText(text()) }
        case .ne: return !lower.contains { $0.sameText(text()) }
        case .startsWith: return lower.contains { $0.hasPrefix(text()) }
        case .notStartsWith: return !lower.contains { $0.hasPrefix(text()) }
        case .endsWith: return lower.contains { $0.hasSuffix(text()) }
        case .notEndsWith: return !lower.contains { $0.hasSuffix(text()) }
        case .contains: return lower.contains { $0.containsText(text()) }
        case .notContains: return !lower.contains { $0.containsText(text()) }
        case .in: return lower.contains { value in list().contains { $0.sameText(value) } }
        case .notIn: return !lower.contains { value in list().contains { $0.sameText(value) } }
        case .isSet: return !values.isEmpty
        case .notSet: return values.isEmpty
        case .matches: return regex(.match)
        case .notMatches: return regex(.noMatch)
        case .gt: return number(>)
        case .gte: return number(>=)
        case .lt: return number(<)
        case .lte: return number(<=)
        }
    }
}
