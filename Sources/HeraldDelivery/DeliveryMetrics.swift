import CoreMetrics
import HeraldCore
import Synchronization

/// Delivery's metrics: attempts by outcome per target (`herald_deliveries_total{kind,target,outcome}`) and
/// how long attempts take per kind (`herald_delivery_attempt_seconds{kind}`).
public final class DeliveryMetrics: Sendable {
    /// How one attempt ended, as the `outcome` label spells it.
    enum Outcome: String, Sendable {
        case delivered
        /// A 5xx, timeout or connection error.
        case retried
        case rateLimited = "rate_limited"
        /// Refused for good.
        case failed
        /// Given up at the maximum age.
        case dead
    }

    /// One counter's labels.
    private struct CounterKey: Hashable {
        var kind: DeliveryKind
        var target: String
        var outcome: Outcome
    }

    private let factory: any MetricsFactory
    private let counters = Mutex<[CounterKey: CoreMetrics.Counter]>([:])
    private let timers = Mutex<[DeliveryKind: CoreMetrics.Timer]>([:])

    public init(factory: any MetricsFactory) {
        self.factory = factory
    }

    func recordOutcome(kind: DeliveryKind, target: String, outcome: Outcome) {
        let key = CounterKey(kind: kind, target: target, outcome: outcome)
        let counter = counters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = CoreMetrics.Counter(
                label: "herald_deliveries_total",
                dimensions: [("kind", kind.rawValue), ("target", target), ("outcome", outcome.rawValue)],
                factory: factory)
            counters[key] = counter
            return counter
        }
        counter.increment()
    }

    func recordAttempt(kind: DeliveryKind, took: Duration) {
        let timer = timers.withLock { timers in
            if let timer = timers[kind] { return timer }
            let timer = CoreMetrics.Timer(
                label: "herald_delivery_attempt_seconds", dimensions: [("kind", kind.rawValue)], factory: factory)
            timers[kind] = timer
            return timer
        }
        timer.recordNanoseconds(took.components.seconds * 1_000_000_000 + took.components.attoseconds / 1_000_000_000)
    }
}
