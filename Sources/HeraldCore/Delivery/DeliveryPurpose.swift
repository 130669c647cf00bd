/// Why an outbox row exists, which decides what delivering it does.
public enum DeliveryPurpose: String, Sendable, Hashable, CaseIterable {
    /// A rule fired: a new message, or a thread reply under the first message for a repeat firing.
    case alert
    /// Someone acted on the issue: rewrite a message Herald posted to the new state.
    case update
    /// Someone acted on the issue: reply in a message's thread with what they did.
    case note

    /// Whether the row acts on a message already posted rather than posting a new one.
    public var followsUp: Bool { self != .alert }
}
