import HeraldCore

/// An operator of tag and attribute filters, spelt as rule files spell it.
public enum MatchOperator: String, Sendable, Hashable, CaseIterable {
    case eq, ne
    case startsWith = "starts_with", notStartsWith = "not_starts_with"
    case endsWith = "ends_with", notEndsWith = "not_ends_with"
    case contains, notContains = "not_contains"
    case `in`, notIn = "not_in"
    case isSet = "is_set", notSet = "not_set"
    case matches, notMatches = "not_matches"
    case gt, gte, lt, lte

    public static let names: [String] = allCases.map(\.rawValue)

    /// Negative operators pass only when no value matches (and so pass when there is no value at all);
    /// positive ones pass when any value matches. This is Sentry's rule for multi-valued attributes.
    public var isNegative: Bool {
        switch self {
        case .ne, .notStartsWith, .notEndsWith, .notContains, .notIn, .notSet, .notMatches: true
        default: false
        }
    }
}

/// A test of the values one tag or attribute has on an event: an operator and its operand.
///
/// Text comparisons are case-insensitive, so the operand is kept lowercased beside the original spelling.
/// Regexes are case-sensitive unless their own inline flags say otherwise.
/// A class, not a struct: the engine reads matches on its hot path, and passing a reference costs one retain
/// where copying the operand, its lowercased form and its set would cost several.
public final class ValueMatch: Hashable, Sendable, CustomStringConvertible {
    public enum Operand: Hashable, Sendable {
        case none
        case text(String)
        case list([String])
        case pattern(Pattern)
        case number(Double)
    }

    public let op: MatchOperator
    public let operand: Operand
    /// Whether the operand is a regex, kept apart so the engine can ask without unpacking the operand.
    let isPattern: Bool
    /// `text` or `list` operands lowercased, for case-insensitive comparison.
    let folded: [String]
    /// `folded` as a table, for long `in` lists.
    let foldedSet: TextTable<Bool>

    public init(_ op: MatchOperator, _ operand: Operand) {
        self.op = op
        self.operand = operand
        if case .pattern = operand { isPattern = true } else { isPattern = false }
        switch operand {
        case .text(let text): folded = [text.lowercased()]
        case .list(let items): folded = items.map { $0.lowercased() }
        default: folded = []
        }
        foldedSet = TextTable(folded)
    }

    public static func == (lhs: ValueMatch, rhs: ValueMatch) -> Bool {
        lhs.op == rhs.op && lhs.operand == rhs.operand
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(op)
        hasher.combine(operand)
    }

    /// Whether `test` reads the lowercased values; regexes, numbers and presence tests do not.
    public var comparesLowercased: Bool {
        switch op {
        case .isSet, .notSet, .matches, .notMatches, .gt, .gte, .lt, .lte: false
        default: true
        }
    }

    /// Whether the values pass. `lowercased` must hold `values` lowercased, in the same order, when
    /// `comparesLowercased` (callers that test many matches against one field lowercase once); it is not
    /// read otherwise.
    public func test(values: [String], lowercased: [String]) -> Bool {
        test(values: values[...], lowercased: lowercased[...], scratch: nil)
    }

    /// As `test(values:lowercased:)`, over slices, matching regexes with the caller's scratch space.
    func test(values: ArraySlice<String>, lowercased: ArraySlice<String>, scratch: Pattern.Scratch?) -> Bool {
        switch op {
        case .isSet: return !values.isEmpty
        case .notSet: return values.isEmpty
        case .matches, .notMatches:
            guard case .pattern(let pattern) = operand else { return false }
            // A match that gave up at a limit is neither: it makes both operators false.
            if op.isNegative { return values.allSatisfy { pattern.evaluate($0, scratch: scratch) == .noMatch } }
            return values.contains { pattern.evaluate($0, scratch: scratch) == .match }
        case .gt, .gte, .lt, .lte:
            guard case .number(let bound) = operand else { return false }
            return values.contains { value in
                guard let number = Double(value.trimmingWhitespace) else { return false }
                switch op {
                case .gt: return number > bound
                case .gte: return number >= bound
                case .lt: return number < bound
                default: return number <= bound
                }
            }
        case .in, .notIn:
            // A short list is faster to scan than to hash into.
            let found =
                folded.count <= 8
                ? lowercased.contains { value in folded.contains { $0.sameText(value) } }
                : lowercased.contains(where: foldedSet.contains)
            return found != op.isNegative
        case .eq, .ne:
            return lowercased.contains { $0.sameText(folded[0]) } != op.isNegative
        case .startsWith, .notStartsWith:
            return lowercased.contains { $0.hasPrefix(folded[0]) } != op.isNegative
        case .endsWith, .notEndsWith:
            return lowercased.contains { $0.hasSuffix(folded[0]) } != op.isNegative
        case .contains, .notContains:
            return lowercased.contains { $0.containsText(folded[0]) } != op.isNegative
        }
    }

    public var description: String {
        switch operand {
        case .none: op.rawValue
        case .text(let text): "\(op.rawValue) \"\(text)\""
        case .list(let items): "\(op.rawValue) [\(items.map { "\"\($0)\"" }.joined(separator: ", "))]"
        case .pattern(let pattern): "\(op.rawValue) \(pattern)"
        case .number(let number): "\(op.rawValue) \(number.formatted)"
        }
    }
}
