import CoreMetrics
import Synchronization

/// Delivery's metrics: attempts by outcome per target (`herald_deliveries_total{kind,target,outcome}`) and
/// how long attempts take per kind (`herald_delivery_attempt_seconds{kind}`).
public final class DeliveryMetrics: Sendable {
    private let factory: any MetricsFactory
    private let counters = Mutex<[String: CoreMetrics.Counter]>([:])
    private let timers = Mutex<[String: CoreMetrics.Timer]>([:])

    public init(factory: any MetricsFactory) {
        self.factory = factory
    }

    /// Counts one attempt's outcome: `delivered`, `retried` (a 5xx, timeout or connection error),
    /// `rate_limited`, `failed` (refused for good) or `dead` (given up at the maximum age).
    func recordOutcome(kind: String, target: String, outcome: String) {
        let key = "\(kind)\u{1F}\(target)\u{1F}\(outcome)"
        let counter = counters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = CoreMetrics.Counter(
                label: "herald_deliveries_total",
                dimensions: [("kind", kind), ("target", target), ("outcome", outcome)], factory: factory)
            counters[key] = counter
            return counter
        }
        counter.increment()
    }

    func recordAttempt(kind: String, took: Duration) {
        let timer = timers.withLock { timers in
            if let timer = timers[kind] { return timer }
            let timer = CoreMetrics.Timer(
                label: "herald_delivery_attempt_seconds", dimensions: [("kind", kind)], factory: factory)
            timers[kind] = timer
            return timer
        }
        timer.recordNanoseconds(took.components.seconds * 1_000_000_000 + took.components.attoseconds / 1_000_000_000)
    }
}
