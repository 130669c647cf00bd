import Foundation
import HeraldCore

/// The compiled form of a rule set: decides, for one event on one issue, which rules fire and where their
/// notifications go.
///
/// Compilation does the work once so that evaluation does little per event:
/// - rules are grouped by project, and disabled rules dropped;
/// - each rule whose filters require a tag or attribute to equal one of some values (`eq`, `in`) is indexed
///   under those values, so rules that cannot match the event are never visited;
/// - identical filters and triggers across a project's rules are numbered once and evaluated at most once
///   per event;
/// - regexes were compiled (with the JIT) when the rules were loaded;
/// - within each condition group, triggers that need the store's counters are ordered after the cheap ones,
///   so counters are read only for rules whose cheaper conditions all passed.
///
/// Immutable and `Sendable`: one engine serves every request thread until a reload swaps in the next one.
public struct RuleEngine: Sendable {
    public let ruleSet: RuleSet
    private let programs: [String: ProjectProgram]

    public init(ruleSet: RuleSet) {
        self.ruleSet = ruleSet
        var byProject: [String: [Int]] = [:]
        for (index, rule) in ruleSet.rules.enumerated() where rule.enabled {
            byProject[rule.project, default: []].append(index)
        }
        programs = byProject.mapValues { ProjectProgram(rules: ruleSet.rules, indices: $0) }
    }

    /// The rules that match the event, in rule-set order, and the deduplicated deliveries they ask for.
    public func evaluate(_ event: Event, context: EvaluationContext) -> Evaluation {
        guard let program = programs[context.project] else { return Evaluation(matched: [], deliveries: []) }
        let matched = program.matchingRules(event: event, context: context)
        var plan = DeliveryPlan()
        for index in matched { plan.add(ruleSet.rules[index], event: event) }
        return Evaluation(matched: matched.map { ruleSet.rules[$0] }, deliveries: plan.result)
    }
}

/// What one evaluation decided.
public struct Evaluation: Sendable {
    public var matched: [Rule]
    public var deliveries: [Delivery]
}

/// One project's rules, compiled.
private final class ProjectProgram: Sendable {
    /// A condition over numbered leaves.
    indirect enum Node: Sendable {
        case leaf(Int)
        case all([Node])
        case any([Node])
        case none([Node])
    }

    struct CompiledRule: Sendable {
        /// Position in the rule set.
        let index: Int
        let environment: String?
        let filters: Node
        let triggers: Node
    }

    struct CompiledFilter: Sendable {
        let filter: Filter
        /// Index into `fields` for tag and attribute filters.
        let field: Int?
    }

    let rules: [CompiledRule]
    let filters: [CompiledFilter]
    let triggers: [Trigger]
    let fields: [FieldKey]
    /// Rules with no indexable filter: candidates for every event.
    let unanchored: [Int32]
    /// For each indexed field, the rules (positions in `rules`) keyed by the lowercased value they require.
    let anchors: [(field: Int, rulesByValue: [String: [Int32]])]

    init(rules allRules: [Rule], indices: [Int]) {
        var filterIDs: [Filter: Int] = [:], filters: [CompiledFilter] = []
        var triggerIDs: [Trigger: Int] = [:], triggers: [Trigger] = []
        var fieldIDs: [FieldKey: Int] = [:], fields: [FieldKey] = []
        var unanchored: [Int32] = []
        var anchors: [Int: [String: [Int32]]] = [:]

        func fieldID(_ key: FieldKey) -> Int {
            if let id = fieldIDs[key] { return id }
            fieldIDs[key] = fields.count
            fields.append(key)
            return fields.count - 1
        }
        func filterNode(_ condition: Condition<Filter>) -> Node {
            switch condition {
            case .leaf(let filter):
                if let id = filterIDs[filter] { return .leaf(id) }
                filterIDs[filter] = filters.count
                filters.append(CompiledFilter(filter: filter, field: filter.field.map(fieldID)))
                return .leaf(filters.count - 1)
            case .all(let members): return .all(members.map(filterNode))
            case .any(let members): return .any(members.map(filterNode))
            case .none(let members): return .none(members.map(filterNode))
            }
        }
        func triggerNode(_ condition: Condition<Trigger>) -> Node {
            switch condition {
            case .leaf(let trigger):
                if let id = triggerIDs[trigger] { return .leaf(id) }
                triggerIDs[trigger] = triggers.count
                triggers.append(trigger)
                return .leaf(triggers.count - 1)
            case .all(let members): return .all(Self.cheapFirst(members).map(triggerNode))
            case .any(let members): return .any(Self.cheapFirst(members).map(triggerNode))
            case .none(let members): return .none(Self.cheapFirst(members).map(triggerNode))
            }
        }

        var compiled: [CompiledRule] = []
        for index in indices {
            let rule = allRules[index]
            let position = Int32(compiled.count)
            compiled.append(CompiledRule(
                index: index, environment: rule.environment,
                filters: filterNode(rule.filters), triggers: triggerNode(rule.triggers)))
            if let anchor = Self.anchor(of: rule.filters) {
                let field = fieldID(anchor.field)
                for value in Set(anchor.values) { anchors[field, default: [:]][value, default: []].append(position) }
            } else {
                unanchored.append(position)
            }
        }
        self.rules = compiled
        self.filters = filters
        self.triggers = triggers
        self.fields = fields
        self.unanchored = unanchored
        self.anchors = anchors.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// Keeps group members in order but moves those that need counters last. Evaluation is free of side
    /// effects, so reordering never changes an answer, only its cost.
    private static func cheapFirst(_ members: [Condition<Trigger>]) -> [Condition<Trigger>] {
        let needsCounts = { (member: Condition<Trigger>) in member.leaves.contains(where: \.needsCounts) }
        return members.filter { !needsCounts($0) } + members.filter(needsCounts)
    }

    /// A filter every match of the rule must pass that pins a field to a few values: a top-level (or nested
    /// `all`) `eq` or `in` on a tag or attribute. `eq` is preferred, being the more selective.
    private static func anchor(of filters: Condition<Filter>) -> (field: FieldKey, values: [String])? {
        func required(_ condition: Condition<Filter>) -> [Filter] {
            switch condition {
            case .leaf(let filter): [filter]
            case .all(let members): members.flatMap(required)
            case .any, .none: []
            }
        }
        let candidates = required(filters).compactMap { filter -> (FieldKey, ValueMatch)? in
            switch filter {
            case .tag(_, let match) where match.op == .eq || match.op == .in,
                .attribute(_, let match) where match.op == .eq || match.op == .in:
                (filter.field!, match)
            default: nil
            }
        }
        guard let best = candidates.first(where: { $0.1.op == .eq }) ?? candidates.first else { return nil }
        return (best.0, best.1.folded)
    }

    /// Positions in the rule set of the rules that match, in order.
    func matchingRules(event: Event, context: EvaluationContext) -> [Int] {
        var scratch = Scratch(program: self, event: event, context: context)
        var candidates = unanchored
        var merged = false
        for anchor in anchors {
            for value in scratch.lowercased(anchor.field) {
                guard let positions = anchor.rulesByValue[value] else { continue }
                candidates += positions
                merged = true
            }
        }
        if merged {
            candidates.sort()
            candidates = candidates.uniquedSorted()
        }
        var matched: [Int] = []
        for position in candidates {
            let rule = rules[Int(position)]
            if let environment = rule.environment, environment != event.environment { continue }
            guard scratch.evaluate(rule.filters, leaf: { $0.filter($1) }) else { continue }
            guard scratch.evaluate(rule.triggers, leaf: { $0.trigger($1) }) else { continue }
            matched.append(rule.index)
        }
        return matched
    }

    /// Per-event memory: each leaf and field is worked out at most once per event.
    struct Scratch {
        let program: ProjectProgram
        let event: Event
        let context: EvaluationContext
        /// 0 not yet evaluated, 1 false, 2 true.
        var filterResults: [UInt8]
        var triggerResults: [UInt8]
        var values: [[String]?]
        var lowercasedValues: [[String]?]
        var counts: [Int: Int] = [:]

        init(program: ProjectProgram, event: Event, context: EvaluationContext) {
            self.program = program
            self.event = event
            self.context = context
            filterResults = [UInt8](repeating: 0, count: program.filters.count)
            triggerResults = [UInt8](repeating: 0, count: program.triggers.count)
            values = [[String]?](repeating: nil, count: program.fields.count)
            lowercasedValues = [[String]?](repeating: nil, count: program.fields.count)
        }

        mutating func values(_ field: Int) -> [String] {
            if let known = values[field] { return known }
            let found = program.fields[field].values(of: event)
            values[field] = found
            return found
        }

        mutating func lowercased(_ field: Int) -> [String] {
            if let known = lowercasedValues[field] { return known }
            let found = values(field).map { $0.lowercased() }
            lowercasedValues[field] = found
            return found
        }

        mutating func evaluate(_ node: Node, leaf: (inout Scratch, Int) -> Bool) -> Bool {
            switch node {
            case .leaf(let id): return leaf(&self, id)
            case .all(let members):
                for member in members where !evaluate(member, leaf: leaf) { return false }
                return true
            case .any(let members):
                for member in members where evaluate(member, leaf: leaf) { return true }
                return false
            case .none(let members):
                for member in members where evaluate(member, leaf: leaf) { return false }
                return true
            }
        }

        mutating func filter(_ id: Int) -> Bool {
            if filterResults[id] != 0 { return filterResults[id] == 2 }
            let compiled = program.filters[id]
            let result = compiled.filter.test(event: event, context: context) {
                guard let field = compiled.field else { return ([], []) }
                return (values(field), lowercased(field))
            }
            filterResults[id] = result ? 2 : 1
            return result
        }

        mutating func trigger(_ id: Int) -> Bool {
            if triggerResults[id] != 0 { return triggerResults[id] == 2 }
            let result = program.triggers[id].test(context: context) { metric, window, shift in
                count(metric, window, shift)
            }
            triggerResults[id] = result ? 2 : 1
            return result
        }

        /// Counters are the expensive part; two rules asking for one window share one answer.
        mutating func count(_ metric: CountMetric, _ window: Interval, _ shift: Interval?) -> Int {
            let key = (metric == .events ? 0 : 1000) + window.ordinal * 10 + (shift.map { $0.ordinal + 1 } ?? 0)
            if let known = counts[key] { return known }
            let value = context.counts.count(metric, in: window, endingAgo: shift)
            counts[key] = value
            return value
        }
    }
}

extension Interval {
    fileprivate var ordinal: Int { Self.allCases.firstIndex(of: self)! }
}

extension Array where Element: Equatable {
    /// Drops adjacent repeats; on a sorted array, every repeat.
    fileprivate func uniquedSorted() -> [Element] {
        var result: [Element] = []
        result.reserveCapacity(count)
        for element in self where result.last != element { result.append(element) }
        return result
    }
}
