/// A boolean combination of conditions: the shape of a rule's `when` (over triggers) and `if` (over filters).
public indirect enum Condition<Leaf: Hashable & Sendable>: Hashable, Sendable {
    case leaf(Leaf)
    /// Passes when every member passes; an empty group passes.
    case all([Condition])
    /// Passes when at least one member passes; an empty group fails.
    case any([Condition])
    /// Passes when no member passes.
    case none([Condition])

    /// Every leaf, in file order.
    public var leaves: [Leaf] {
        switch self {
        case .leaf(let leaf): [leaf]
        case .all(let members), .any(let members), .none(let members): members.flatMap(\.leaves)
        }
    }
}
