import Foundation

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
public struct ValueMatch: Hashable, Sendable, CustomStringConvertible {
    public enum Operand: Hashable, Sendable {
        case none
        case text(String)
        case list([String])
        case pattern(Pattern)
        case number(Double)
    }

    public let op: MatchOperator
    public let operand: Operand
    /// `text` or `list` operands lowercased, for case-insensitive comparison.
    let folded: [String]
    let foldedSet: Set<String>

    public init(_ op: MatchOperator, _ operand: Operand) {
        self.op = op
        self.operand = operand
        switch operand {
        case .text(let text): folded = [text.lowercased()]
        case .list(let items): folded = items.map { $0.lowercased() }
        default: folded = []
        }
        foldedSet = Set(folded)
    }

    public static func == (lhs: ValueMatch, rhs: ValueMatch) -> Bool {
        lhs.op == rhs.op && lhs.operand == rhs.operand
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(op)
        hasher.combine(operand)
    }

    /// Whether the values pass. `lowercased` must hold `values` lowercased, in the same order; callers that
    /// test many matches against one field lowercase once.
    public func test(values: [String], lowercased: [String]) -> Bool {
        switch op {
        case .isSet: return !values.isEmpty
        case .notSet: return values.isEmpty
        case .matches, .notMatches:
            guard case .pattern(let pattern) = operand else { return false }
            return values.contains(where: pattern.matches) != op.isNegative
        case .gt, .gte, .lt, .lte:
            guard case .number(let bound) = operand else { return false }
            return values.contains { value in
                guard let number = Double(value.trimmingCharacters(in: .whitespaces)) else { return false }
                switch op {
                case .gt: return number > bound
                case .gte: return number >= bound
                case .lt: return number < bound
                default: return number <= bound
                }
            }
        case .in, .notIn:
            return lowercased.contains(where: foldedSet.contains) != op.isNegative
        case .eq, .ne:
            return lowercased.contains(folded[0]) != op.isNegative
        case .startsWith, .notStartsWith:
            return lowercased.contains { $0.hasPrefix(folded[0]) } != op.isNegative
        case .endsWith, .notEndsWith:
            return lowercased.contains { $0.hasSuffix(folded[0]) } != op.isNegative
        case .contains, .notContains:
            return lowercased.contains { $0.contains(folded[0]) } != op.isNegative
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
