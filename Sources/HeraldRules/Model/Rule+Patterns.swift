extension Rule {
    /// The regular expressions of the rule's filters.
    public var patterns: [Pattern] {
        filters.leaves.compactMap { filter in
            switch filter {
            case .tag(_, let match), .attribute(_, let match):
                if case .pattern(let pattern) = match.operand { return pattern }
                return nil
            default:
                return nil
            }
        }
    }

    /// How many of the rule's regular-expression matches gave up at a limit since the rule was loaded.
    public var regexLimitHits: Int { patterns.reduce(0) { $0 + $1.limitHits } }
}
