/// Holds back log lines that say the same thing again: the first of a kind is written, repeats within
/// `interval` are only counted, and the next one written after it says how many were held back. A target that
/// is down for a day writes a line a minute, not one per attempt. A value type with the time passed in.
struct NoticeLimiter {
    let interval: Duration
    private var kinds: [String: (writtenAt: ContinuousClock.Instant, held: Int)] = [:]

    init(interval: Duration = .seconds(60)) {
        self.interval = interval
    }

    /// Whether to write a notice of `kind` now, and how many of that kind were held back since the last one
    /// written.
    mutating func admit(_ kind: String, now: ContinuousClock.Instant) -> (write: Bool, held: Int) {
        if let last = kinds[kind], now - last.writtenAt < interval {
            kinds[kind] = (last.writtenAt, last.held + 1)
            return (false, 0)
        }
        let held = kinds[kind]?.held ?? 0
        kinds[kind] = (now, 0)
        if kinds.count > 10_000 { kinds = kinds.filter { now - $0.value.writtenAt < interval } }
        return (true, held)
    }
}
