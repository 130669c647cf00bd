import Synchronization

/// The bytes of request bodies Herald holds at once, across every ingest request: each request reserves its
/// body's size before reading it (the most it may be when the size is not announced), and what it
/// decompresses to once it is inflated, and gives it all back when answered. A request that does not fit is
/// answered 429 before its body is read, so a burst of large bodies costs a bounded amount of memory however
/// many connections carry it.
final class BodyBudget: Sendable {
    /// The most bytes reserved at once.
    let capacity: Int
    private let reserved = Mutex(0)
    /// Called when the last reservation of a busy spell is given back; the memory it held can go back to the
    /// system.
    private let drained: @Sendable (_ peak: Int) -> Void
    private let peak = Mutex(0)

    init(capacity: Int, drained: @escaping @Sendable (_ peak: Int) -> Void = { _ in }) {
        self.capacity = capacity
        self.drained = drained
    }

    /// Bytes reserved now.
    var inUse: Int { reserved.withLock { $0 } }

    /// Reserves `bytes`; false, reserving nothing, when they do not fit.
    func reserve(_ bytes: Int) -> Bool {
        guard bytes >= 0 else { return false }
        let taken = reserved.withLock { reserved -> Int? in
            guard bytes <= capacity - reserved else { return nil }
            reserved += bytes
            return reserved
        }
        guard let taken else { return false }
        peak.withLock { $0 = max($0, taken) }
        return true
    }

    /// Gives back `bytes` of what was reserved.
    func release(_ bytes: Int) {
        guard bytes > 0 else { return }
        let left = reserved.withLock { reserved in
            reserved = max(0, reserved - bytes)
            return reserved
        }
        if left == 0 {
            let spell = peak.withLock { peak in
                defer { peak = 0 }
                return peak
            }
            drained(spell)
        }
    }
}
