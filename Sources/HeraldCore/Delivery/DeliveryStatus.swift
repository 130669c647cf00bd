/// Where an outbox row stands.
public enum DeliveryStatus: String, Sendable, Hashable, CaseIterable {
    /// Waiting for its first attempt, or for a retry due soon.
    case pending
    /// Failed with a retryable error and waiting a while for its next attempt (`next_attempt_at`); delivery
    /// does not hold such rows in memory but reads them back when they are due.
    case retrying
    /// Sent; chat messages have a handle.
    case delivered
    /// Refused for good (a missing channel, a revoked token…); `last_error` says why.
    case failed
    /// Retried until the give-up age without success.
    case dead

    /// Whether delivery will still try the row.
    public var isOpen: Bool { self == .pending || self == .retrying }

}
