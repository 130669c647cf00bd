import Foundation
import HeraldChat
import HeraldConfig
import HeraldCore

/// What a failed attempt leads to, decided from the failure, the attempts so far and the row's age alone:
/// no clock, no randomness of its own, so tests choose every input.
struct RetryPolicy: Sendable {
    var retryDelay: Double
    var maxRetryDelay: Double
    /// Retries due sooner than this wait in memory; later ones are parked in the database.
    var memoryRetrySeconds: Double
    /// After this many seconds since the row was written, a retryable failure is final (`dead`).
    var giveUpAfter: Double

    init(_ policy: Config.Delivery) {
        retryDelay = policy.retryDelay
        maxRetryDelay = policy.maxRetryDelay
        memoryRetrySeconds = policy.memoryRetrySeconds
        giveUpAfter = policy.giveUpAfter
    }

    init(retryDelay: Double, maxRetryDelay: Double, memoryRetrySeconds: Double, giveUpAfter: Double) {
        self.retryDelay = retryDelay
        self.maxRetryDelay = maxRetryDelay
        self.memoryRetrySeconds = memoryRetrySeconds
        self.giveUpAfter = giveUpAfter
    }

    enum Decision: Sendable, Equatable {
        /// Try again after this many seconds; the row stays in its lane.
        case retryInMemory(after: Double)
        /// Try again after this many seconds; the row waits in the database as `retrying`.
        case park(after: Double)
        /// Retried past the give-up age.
        case dead(reason: String)
        /// Refused for good.
        case failed(reason: String)
    }

    /// `attempts` counts this one; `age` is the row's age in seconds; `jitter` is in 0...1 and spreads the
    /// retries of many rows (the dispatcher draws it at random).
    func decide(_ failure: ChatFailure, attempts: Int, age: Double, jitter: Double) -> Decision {
        let wait: Double
        switch failure {
        case .rateLimited(let seconds): wait = seconds
        case .transient: wait = backoff(attempts: attempts, jitter: jitter)
        case .permanent: return .failed(reason: failure.description)
        }
        guard age + wait <= giveUpAfter else {
            return .dead(reason: "gave up after \(attempts) attempts over \(Int(saturating: max(0, age))) s; last error: \(failure)")
        }
        return wait > memoryRetrySeconds ? .park(after: wait) : .retryInMemory(after: wait)
    }

    /// Exponential backoff with jitter: the n-th retry waits between half and all of
    /// `retryDelay × 2^(n-1)`, capped at `maxRetryDelay`.
    func backoff(attempts: Int, jitter: Double) -> Double {
        let exponent = Double(min(max(attempts - 1, 0), 30))
        let ceiling = min(maxRetryDelay, retryDelay * pow(2, exponent))
        return ceiling / 2 + ceiling / 2 * min(max(jitter, 0), 1)
    }
}
