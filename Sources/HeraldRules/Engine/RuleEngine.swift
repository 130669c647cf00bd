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
    /// Each rule's deliveries, prepared once (by rule-set position).
    private let plannedDeliveries: [[PlannedDelivery]]

    public init(ruleSet: RuleSet) {
        self.ruleSet = ruleSet
        var byProject: [String: [Int]] = [:]
        for (index, rule) in ruleSet.rules.enumerated() where rule.enabled {
            byProject[rule.project, default: []].append(index)
        }
        programs = byProject.mapValues { ProjectProgram(rules: ruleSet.rules, indices: $0) }
        plannedDeliveries = ruleSet.rules.map(PlannedDelivery.plan)
    }

    /// The rules that match the event, in rule-set order, and the deduplicated deliveries they ask for.
    public func evaluate(_ event: Event, context: EvaluationContext) -> Evaluation {
        guard let program = programs[context.project] else { return Evaluation(matched: [], deliveries: []) }
        let matches = program.matchingRules(event: event, context: context)
        guard !matches.isEmpty else { return Evaluation(matched: [], deliveries: []) }
        // One allocation for the deliveries: never more than the matched rules ask for in all.
        var plan = DeliveryPlan(capacity: matches.reduce(0) { $0 + plannedDeliveries[$1.index].count })
        var matched: [Rule] = []
        matched.reserveCapacity(matches.count)
        for match in matches {
            plan.add(plannedDeliveries[match.index], project: context.project, event: event)
            matched.append(match.rule)
        }
        return Evaluation(matched: matched, deliveries: plan.result)
    }

    /// The deliveries that matched rules ask for, merged per (kind, target, channel).
    public static func deliveries(for rules: [Rule], event: Event) -> [Delivery] {
        var plan = DeliveryPlan()
        for rule in rules { plan.add(PlannedDelivery.plan(rule), project: rule.project, event: event) }
        return plan.result
    }
}

/// What one evaluation decided.
public struct Evaluation: Sendable {
    public var matched: [Rule]
    public var deliveries: [Delivery]

    public init(matched: [Rule], deliveries: [Delivery]) {
        self.matched = matched
        self.deliveries = deliveries
    }
}

/// One project's rules, compiled.
///
/// Conditions are flattened into one array of plain instructions, so walking them touches no reference
/// counts; leaves are numbered once per project and referred to by number.
private final class ProjectProgram: Sendable {
    /// One node of a flattened condition. A group is followed by its members; `span` is the number of
    /// instructions the node covers, itself included, so a short-circuit can jump over the rest.
    struct Instruction: Sendable {
        enum Kind: UInt8, Sendable { case leaf, all, any, none }
        let kind: Kind
        /// The leaf number, or the number of members of a group.
        let operand: Int32
        let span: Int32
    }

    struct CompiledRule: Sendable {
        /// Position in the rule set.
        let index: Int
        /// Index into `environments`, or -1 when the rule has no environment gate.
        let environment: Int32
        /// Where the rule's filters and triggers start in `code`.
        let filters: Int32
        let triggers: Int32
    }

    /// A filter leaf and the field it reads.
    final class FilterLeaf: Sendable {
        let filter: Filter
        /// For tag and attribute filters: the test and the index of its field in `fields`.
        let match: ValueMatch?
        let field: Int
        init(filter: Filter, field: Int) {
            self.filter = filter
            self.match = filter.match
            self.field = field
        }
    }

    let rules: [CompiledRule]
    /// For each rule (by position), bit `n` set when its triggers can pass for the issue state
    /// `IssueState.allCases[n]`. Packed apart from the records: the scan reads these few cache lines and
    /// loads a rule's record only when it can fire for the event's issue state.
    let possibleStates: [UInt8]
    /// The rules themselves, by position, to hand out the matches.
    let ruleObjects: [Rule]
    let code: [Instruction]
    let environments: [String]
    let filters: [FilterLeaf]
    let triggers: [Trigger]
    let fields: [FieldKey]
    /// The field number of each tag field, by lowercased tag key.
    let tagFields: TextTable<Int32>
    /// 1 for each rule (position in `rules`) with no indexable filter: a candidate for every event.
    let alwaysCandidate: [UInt8]
    let hasAlwaysCandidates: Bool
    /// The indexed fields. Probing one with an event's values finds the rules that require those values,
    /// and settles every positive `eq` / `in` filter on the field at once: the filters listed under a value
    /// the event has are true, all the field's others (`settledFilters`) false, since these operators pass
    /// exactly when some value of the field is in their set.
    let anchors: [Anchor]

    struct Anchor: Sendable {
        let field: Int
        let byValue: TextTable<Hit>
        let settledFilters: [Int32]
        /// Every hit's rules then filters, back to back; a hit holds plain offsets into it, so a probe reads
        /// the table and this one array, no per-value arrays.
        let entries: [Int32]
    }

    /// What an index value leads to: `ruleCount` positions in `rules`, then `filterCount` filters (by
    /// number) that hold when the event has the value, from `start` in the anchor's `entries`.
    struct Hit: Sendable {
        let start: Int32
        let ruleCount: Int32
        let filterCount: Int32
    }
    /// Rules indexed by the event levels they accept (by `Level.allCases` position), for rules whose only
    /// indexable requirement is a level filter.
    let rulesByLevel: [[Int32]]

    init(rules allRules: [Rule], indices: [Int]) {
        var filterIDs: [Filter: Int] = [:], filters: [FilterLeaf] = []
        var triggerIDs: [Trigger: Int] = [:], triggers: [Trigger] = []
        var fieldIDs: [FieldKey: Int] = [:], fields: [FieldKey] = []
        var environmentIDs: [String: Int] = [:], environments: [String] = []
        var code: [Instruction] = []
        var unanchored: [Int32] = []
        var anchors: [Int: [String: [Int32]]] = [:]
        var rulesByLevel = [[Int32]](repeating: [], count: Level.allCases.count)

        func fieldID(_ key: FieldKey) -> Int {
            if let id = fieldIDs[key] { return id }
            fieldIDs[key] = fields.count
            fields.append(key)
            return fields.count - 1
        }
        func filterID(_ filter: Filter) -> Int {
            if let id = filterIDs[filter] { return id }
            filterIDs[filter] = filters.count
            filters.append(FilterLeaf(filter: filter, field: filter.field.map(fieldID) ?? -1))
            return filters.count - 1
        }
        func triggerID(_ trigger: Trigger) -> Int {
            if let id = triggerIDs[trigger] { return id }
            triggerIDs[trigger] = triggers.count
            triggers.append(trigger)
            return triggers.count - 1
        }
        /// Appends a condition to `code` and returns where it starts.
        func emit<Leaf>(_ condition: Condition<Leaf>, leaf: (Leaf) -> Int, order: ([Condition<Leaf>]) -> [Condition<Leaf>]) -> Int32 {
            let start = code.count
            let kind: Instruction.Kind
            let members: [Condition<Leaf>]
            switch condition {
            case .leaf(let value):
                code.append(Instruction(kind: .leaf, operand: Int32(leaf(value)), span: 1))
                return Int32(start)
            case .all(let list): (kind, members) = (.all, order(list))
            case .any(let list): (kind, members) = (.any, order(list))
            case .none(let list): (kind, members) = (.none, order(list))
            }
            code.append(Instruction(kind: kind, operand: Int32(members.count), span: 0))
            for member in members { _ = emit(member, leaf: leaf, order: order) }
            code[start] = Instruction(kind: kind, operand: Int32(members.count), span: Int32(code.count - start))
            return Int32(start)
        }

        var compiled: [CompiledRule] = []
        var possibleStates: [UInt8] = []
        for index in indices {
            let rule = allRules[index]
            let position = Int32(compiled.count)
            var environment: Int32 = -1
            if let name = rule.environment {
                if environmentIDs[name] == nil {
                    environmentIDs[name] = environments.count
                    environments.append(name)
                }
                environment = Int32(environmentIDs[name]!)
            }
            let filterStart = emit(rule.filters, leaf: filterID, order: Self.cheapestFirst)
            let triggerStart = emit(rule.triggers, leaf: triggerID, order: Self.cheapFirst)
            compiled.append(CompiledRule(index: index, environment: environment, filters: filterStart, triggers: triggerStart))
            possibleStates.append(Self.possibleStates(of: rule.triggers))
            if let anchor = Self.anchor(of: rule.filters) {
                let field = fieldID(anchor.field)
                for value in Set(anchor.values) { anchors[field, default: [:]][value, default: []].append(position) }
            } else if let levels = Self.acceptedLevels(of: rule.filters) {
                for level in levels { rulesByLevel[level.ordinal].append(position) }
            } else {
                unanchored.append(position)
            }
        }
        self.rules = compiled
        self.possibleStates = possibleStates
        self.ruleObjects = indices.map { allRules[$0] }
        self.code = code
        self.environments = environments
        self.filters = filters
        self.triggers = triggers
        self.fields = fields
        var tagFields: [String: Int32] = [:]
        for (id, field) in fields.enumerated() { if case .tag(let key) = field { tagFields[key] = Int32(id) } }
        self.tagFields = TextTable(tagFields)
        self.alwaysCandidate = (0..<compiled.count).map { unanchored.contains(Int32($0)) ? 1 : 0 }
        self.hasAlwaysCandidates = !unanchored.isEmpty
        // Every positive eq / in filter on an indexed field is settled by the index probe.
        var settled: [Int: [Int32]] = [:]
        var filtersByValue: [Int: [String: [Int32]]] = [:]
        for (id, leaf) in filters.enumerated() {
            guard let match = leaf.match, match.op == .eq || match.op == .in, anchors[leaf.field] != nil else { continue }
            settled[leaf.field, default: []].append(Int32(id))
            for value in Set(match.folded) { filtersByValue[leaf.field, default: [:]][value, default: []].append(Int32(id)) }
        }
        self.anchors = anchors.keys.sorted().map { field in
            let rulesByValue = anchors[field]!, filterIDs = filtersByValue[field] ?? [:]
            var entries: [Int32] = []
            var hits: [String: Hit] = [:]
            for value in Set(rulesByValue.keys).union(filterIDs.keys) {
                let rules = rulesByValue[value] ?? [], filters = filterIDs[value] ?? []
                hits[value] = Hit(start: Int32(entries.count), ruleCount: Int32(rules.count), filterCount: Int32(filters.count))
                entries += rules + filters
            }
            return Anchor(field: field, byValue: TextTable(hits), settledFilters: settled[field] ?? [], entries: entries)
        }
        self.rulesByLevel = rulesByLevel
    }

    /// The issue states for which the triggers can pass, as a bit set over `IssueState.allCases`.
    ///
    /// State triggers are known for each state; counter triggers are unknown until asked, so the condition
    /// is evaluated in three-valued logic and a state is possible unless the answer is a definite no.
    /// Most events land on ongoing issues, where rules that only fire on `first_seen` or `regression` are
    /// then skipped without reading a single filter.
    private static func possibleStates(of triggers: Condition<Trigger>) -> UInt8 {
        func answer(_ condition: Condition<Trigger>, _ state: IssueState) -> Bool? {
            switch condition {
            case .leaf(let trigger):
                switch trigger {
                case .firstSeen: return state == .new
                case .regression: return state == .regression
                case .reappeared: return state == .reappeared
                case .everyEvent: return true
                case .frequency, .uniqueUsers, .frequencyChange: return nil
                }
            case .all(let members):
                let answers = members.map { answer($0, state) }
                if answers.contains(false) { return false }
                return answers.contains(nil) ? nil : true
            case .any(let members):
                let answers = members.map { answer($0, state) }
                if answers.contains(true) { return true }
                return answers.contains(nil) ? nil : false
            case .none(let members):
                let answers = members.map { answer($0, state) }
                if answers.contains(true) { return false }
                return answers.contains(nil) ? nil : true
            }
        }
        var mask: UInt8 = 0
        for state in IssueState.allCases where answer(triggers, state) != false { mask |= 1 << state.ordinal }
        return mask
    }

    /// Orders filter group members by what they cost to answer: facts of the issue and the level first, then
    /// exact comparisons, then substring and number tests, regexes last (ties keep their order).
    private static func cheapestFirst(_ members: [Condition<Filter>]) -> [Condition<Filter>] {
        func cost(_ condition: Condition<Filter>) -> Int {
            switch condition {
            case .all(let list), .any(let list), .none(let list): return list.map(cost).max() ?? 0
            case .leaf(let filter):
                guard let match = filter.match else { return 0 }
                switch match.op {
                case .eq, .ne, .in, .notIn, .isSet, .notSet: return 1
                case .matches, .notMatches: return 3
                default: return 2
                }
            }
        }
        return members.enumerated().sorted { (cost($0.element), $0.offset) < (cost($1.element), $1.offset) }.map(\.element)
    }

    /// Keeps group members in order but moves those that need counters last. Evaluation is free of side
    /// effects, so reordering never changes an answer, only its cost.
    private static func cheapFirst(_ members: [Condition<Trigger>]) -> [Condition<Trigger>] {
        let needsCounts = { (member: Condition<Trigger>) in member.leaves.contains(where: \.needsCounts) }
        return members.filter { !needsCounts($0) } + members.filter(needsCounts)
    }

    /// The filters every match of a rule must pass: its top-level leaves and those of nested `all` groups.
    private static func required(_ condition: Condition<Filter>) -> [Filter] {
        switch condition {
        case .leaf(let filter): [filter]
        case .all(let members): members.flatMap(required)
        case .any, .none: []
        }
    }

    /// The levels a rule can match at all, when it requires a level filter.
    private static func acceptedLevels(of filters: Condition<Filter>) -> Set<Level>? {
        let sets = required(filters).compactMap { filter -> Set<Level>? in
            guard case .level(let comparison, let level) = filter else { return nil }
            return Set(Level.allCases.filter { comparison.compare($0, level) })
        }
        return sets.isEmpty ? nil : sets.dropFirst().reduce(sets[0]) { $0.intersection($1) }
    }

    /// A filter every match of the rule must pass that pins a field to a few values: a top-level (or nested
    /// `all`) `eq` or `in` on a tag or attribute. `eq` is preferred, being the more selective.
    private static func anchor(of filters: Condition<Filter>) -> (field: FieldKey, values: [String])? {
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

    /// The rules that match with their positions in the rule set, in order.
    ///
    /// Candidates are marked in a byte map (seeded with the rules that are candidates for every event,
    /// then the indexes' hits), and the rules are then scanned in order: no candidate list to sort or merge.
    /// All per-event memory but the field values lives on the stack for the call.
    func matchingRules(event: Event, context: EvaluationContext) -> [(index: Int, rule: Rule)] {
        let byteCount = rules.count + filters.count + triggers.count + environments.count
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: byteCount) { bytes in
            withUnsafeTemporaryAllocation(of: Int32.self, capacity: fields.count * 4 + event.tags.count) { int32s in
                withUnsafeTemporaryAllocation(of: Int.self, capacity: KnownCounts.slotCount) { counts in
                    var rest = bytes[...]
                    let candidates = UnsafeMutableBufferPointer(rebasing: rest.prefix(rules.count))
                    rest = rest.dropFirst(rules.count)
                    let results = UnsafeMutableBufferPointer(rebasing: rest.prefix(filters.count + triggers.count))
                    let environmentPasses = UnsafeMutableBufferPointer(rebasing: rest.dropFirst(filters.count + triggers.count))
                    alwaysCandidate.withUnsafeBytes { UnsafeMutableRawBufferPointer(candidates).copyMemory(from: $0) }
                    results.initialize(repeating: 0)
                    for (index, name) in environments.enumerated() { environmentPasses[index] = name == event.environment ? 1 : 0 }
                    int32s.initialize(repeating: -1)
                    var fieldValues = FieldValues(
                        fields: fields, tagFields: tagFields,
                        ranges: UnsafeMutableBufferPointer(rebasing: int32s[..<(fields.count * 4)]),
                        tagFieldOfTag: UnsafeMutableBufferPointer(rebasing: int32s[(fields.count * 4)...]))

                    var any = hasAlwaysCandidates
                    for position in rulesByLevel[event.level.ordinal] {
                        candidates[Int(position)] = 1
                        any = true
                    }
                    for anchor in anchors {
                        for filter in anchor.settledFilters { results[Int(filter)] = 1 }
                        for value in fieldValues.lowercased(anchor.field, event) {
                            guard let hit = anchor.byValue[value] else { continue }
                            let rulesEnd = Int(hit.start + hit.ruleCount)
                            for offset in Int(hit.start)..<rulesEnd { candidates[Int(anchor.entries[offset])] = 1 }
                            for offset in rulesEnd..<rulesEnd + Int(hit.filterCount) { results[Int(anchor.entries[offset])] = 2 }
                            any = any || hit.ruleCount > 0
                        }
                    }
                    guard any else { return [] }
                    var evaluator = Evaluator(
                        filters: filters, triggers: triggers, results: results, fieldValues: fieldValues,
                        counts: context.counts, knownCounts: KnownCounts(values: counts))
                    return evaluate(candidates: candidates, environmentPasses: environmentPasses, evaluator: &evaluator,
                                    event, context)
                }
            }
        }
    }

    private func evaluate(
        candidates: UnsafeMutableBufferPointer<UInt8>, environmentPasses: UnsafeMutableBufferPointer<UInt8>,
        evaluator: inout Evaluator, _ event: Event, _ context: EvaluationContext
    ) -> [(index: Int, rule: Rule)] {
        let stateBit = UInt8(1) << UInt8(context.issue.state.ordinal)
        return code.withUnsafeBufferPointer { code in
            rules.withUnsafeBufferPointer { rules in
                var matched: [(index: Int, rule: Rule)] = []
                for position in 0..<rules.count where candidates[position] != 0 && possibleStates[position] & stateBit != 0 {
                    let rule = rules[position]
                    if rule.environment >= 0 && environmentPasses[Int(rule.environment)] == 0 { continue }
                    guard evaluator.run(code, Int(rule.filters), isFilter: true, event, context),
                        evaluator.run(code, Int(rule.triggers), isFilter: false, event, context)
                    else { continue }
                    matched.append((rule.index, ruleObjects[position]))
                }
                return matched
            }
        }
    }

    /// The values of the fields rules read, each worked out at most once per event.
    ///
    /// Every value goes into one array, raw and lowercased alike, and each field keeps the range it
    /// occupies (in stack memory the caller provides: raw start and count, then lowercased start and count;
    /// -1 until computed). One event then costs one allocation for all its field values. Ranges are read
    /// only after all the appends a test needs, so no slice ever forces the array to be copied.
    ///
    /// Tags are matched to fields in one pass: each tag's key is lowercased once and looked up among the
    /// program's tag fields, so finding a field's values compares small integers, not text.
    struct FieldValues {
        let fields: [FieldKey]
        let tagFields: TextTable<Int32>
        let ranges: UnsafeMutableBufferPointer<Int32>
        /// For each of the event's tags, the field it feeds, or -1; filled by the first tag field asked for.
        let tagFieldOfTag: UnsafeMutableBufferPointer<Int32>
        private(set) var storage: [String] = []
        private var tagsMatched = false

        init(
            fields: [FieldKey], tagFields: TextTable<Int32>, ranges: UnsafeMutableBufferPointer<Int32>,
            tagFieldOfTag: UnsafeMutableBufferPointer<Int32>
        ) {
            self.fields = fields
            self.tagFields = tagFields
            self.ranges = ranges
            self.tagFieldOfTag = tagFieldOfTag
            storage.reserveCapacity(16)
        }

        /// Computes the field's values, and its lowercased values when asked, if not done yet.
        mutating func prepare(_ field: Int, lowercased: Bool, _ event: Event) {
            if ranges[field * 4] < 0 {
                let start = storage.count
                switch fields[field] {
                case .tag:
                    if !tagsMatched {
                        for (index, tag) in event.tags.enumerated() {
                            tagFieldOfTag[index] = tagFields.value(foldingCaseOf: tag.key) ?? -1
                        }
                        tagsMatched = true
                    }
                    for (index, tagField) in tagFieldOfTag.enumerated() where Int(tagField) == field {
                        storage.append(event.tags[index].value)
                    }
                case .attribute(let attribute):
                    event.appendValues(of: attribute, to: &storage)
                }
                ranges[field * 4] = Int32(start)
                ranges[field * 4 + 1] = Int32(storage.count - start)
            }
            if lowercased && ranges[field * 4 + 2] < 0 {
                let start = Int(ranges[field * 4]), count = Int(ranges[field * 4 + 1])
                let lowercasedStart = storage.count
                for offset in 0..<count { storage.append(storage[start + offset].foldedForComparison) }
                ranges[field * 4 + 2] = Int32(lowercasedStart)
                ranges[field * 4 + 3] = Int32(count)
            }
        }

        /// The field's values; `prepare` must have computed them.
        func values(_ field: Int) -> ArraySlice<String> {
            let start = Int(ranges[field * 4])
            return storage[start..<start + Int(ranges[field * 4 + 1])]
        }

        /// The field's lowercased values; `prepare(lowercased: true)` must have computed them.
        func lowercasedValues(_ field: Int) -> ArraySlice<String> {
            let start = Int(ranges[field * 4 + 2])
            return storage[start..<start + Int(ranges[field * 4 + 3])]
        }

        mutating func lowercased(_ field: Int, _ event: Event) -> ArraySlice<String> {
            prepare(field, lowercased: true, event)
            return lowercasedValues(field)
        }
    }

    /// Evaluates flattened conditions for one event, remembering every leaf's answer.
    ///
    /// It reads the program through buffer views that live only for the evaluation, so walking
    /// conditions costs no reference counting; the event and context are passed in, borrowed, never copied.
    struct Evaluator: CountSource {
        let filters: [FilterLeaf]
        let triggers: [Trigger]
        /// One byte a leaf, filters first then triggers: 0 not yet evaluated, 1 false, 2 true.
        let results: UnsafeMutableBufferPointer<UInt8>
        var fieldValues: FieldValues
        let counts: any IssueCounts
        /// Counter answers by metric, window and shift (see `count`); -1 until asked.
        var knownCounts: KnownCounts
        /// Created on the first regex of the evaluation, then reused.
        var patternScratch: Pattern.Scratch?

        /// Evaluates the condition starting at `pc`, short-circuiting over the flattened members.
        mutating func run(
            _ code: UnsafeBufferPointer<Instruction>, _ pc: Int, isFilter: Bool, _ event: Event, _ context: EvaluationContext
        ) -> Bool {
            let instruction = code[pc]
            if instruction.kind == .leaf {
                let id = Int(instruction.operand)
                return isFilter ? filter(id, event, context) : trigger(id, context.issue.state)
            }
            var member = pc + 1
            for _ in 0..<instruction.operand {
                let passed = run(code, member, isFilter: isFilter, event, context)
                switch (instruction.kind, passed) {
                case (.all, false): return false
                case (.any, true): return true
                case (.none, true): return false
                default: break
                }
                member += Int(code[member].span)
            }
            return instruction.kind != .any
        }

        mutating func filter(_ id: Int, _ event: Event, _ context: EvaluationContext) -> Bool {
            if results[id] != 0 { return results[id] == 2 }
            let leaf = filters[id]
            let result: Bool
            if let match = leaf.match {
                let needsLowercased = match.comparesLowercased
                fieldValues.prepare(leaf.field, lowercased: needsLowercased, event)
                if match.isPattern, patternScratch == nil { patternScratch = Pattern.Scratch() }
                result = match.test(
                    values: fieldValues.values(leaf.field),
                    lowercased: needsLowercased ? fieldValues.lowercasedValues(leaf.field) : [],
                    scratch: patternScratch)
            } else {
                result = leaf.filter.testWithoutField(event: event, context: context)
            }
            results[id] = result ? 2 : 1
            return result
        }

        mutating func trigger(_ id: Int, _ state: IssueState) -> Bool {
            let slot = filters.count + id
            if results[slot] != 0 { return results[slot] == 2 }
            let result = triggers[id].test(state: state, counts: &self)
            results[slot] = result ? 2 : 1
            return result
        }

        /// Counters are the expensive part; two rules asking for one window share one answer.
        mutating func count(_ metric: CountMetric, _ window: Interval, _ shift: Interval?) -> Int {
            let slot = KnownCounts.slot(metric, window, shift)
            if let known = knownCounts[slot] { return known }
            let value = counts.count(metric, in: window, endingAgo: shift)
            knownCounts[slot] = value
            return value
        }
    }

    /// The counter answers of one evaluation, in a fixed table: a lookup is an index, not a hash.
    struct KnownCounts {
        private static let windows = Interval.allCases.count
        static let slotCount = CountMetric.allCases.count * windows * (windows + 1)
        /// `slotCount` answers, -1 until asked; set up on the first question, as most events ask none.
        let values: UnsafeMutableBufferPointer<Int>
        private var ready = false

        init(values: UnsafeMutableBufferPointer<Int>) {
            self.values = values
        }

        static func slot(_ metric: CountMetric, _ window: Interval, _ shift: Interval?) -> Int {
            let metricIndex = metric == .events ? 0 : 1
            return (metricIndex * windows + window.ordinal) * (windows + 1) + (shift.map { $0.ordinal + 1 } ?? 0)
        }

        subscript(slot: Int) -> Int? {
            mutating get {
                if !ready {
                    values.initialize(repeating: -1)
                    ready = true
                }
                return values[slot] >= 0 ? values[slot] : nil
            }
            set { values[slot] = newValue ?? -1 }
        }
    }
}

// Positions in `allCases`, without building the `allCases` array (synthesised `allCases` is computed, and
// allocates, on every use).
extension Interval {
    fileprivate var ordinal: Int {
        switch self {
        case .oneMinute: 0
        case .fiveMinutes: 1
        case .fifteenMinutes: 2
        case .oneHour: 3
        case .oneDay: 4
        case .oneWeek: 5
        case .thirtyDays: 6
        }
    }
}

extension Level {
    fileprivate var ordinal: Int { rawValue / 10 - 1 }
}

extension IssueState {
    fileprivate var ordinal: Int {
        switch self {
        case .new: 0
        case .regression: 1
        case .reappeared: 2
        case .ongoing: 3
        }
    }
}
