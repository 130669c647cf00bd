import Foundation
import Synchronization

/// Token buckets, one per key, refilled continuously: `rate` tokens a second up to `capacity`. A key starts
/// full. Time comes from the caller, so tests step it and a clock going backwards refills nothing.
///
/// Herald uses one for new issues per project: a public project key must not let one sender open thousands
/// of issues (and their alerts) at once.
public final class TokenBuckets<Key: Hashable & Sendable>: Sendable {
    public struct Rate: Sendable, Hashable {
        /// Tokens added per second.
        public var perSecond: Double
        /// The most a bucket holds: the burst.
        public var capacity: Double

        public init(perSecond: Double, capacity: Double) {
            self.perSecond = max(perSecond, .leastNormalMagnitude)
            self.capacity = max(capacity, 1)
        }
    }

    private struct Bucket {
        var tokens: Double
        var at: Double
    }

    private let rate: @Sendable (Key) -> Rate
    private let buckets = Mutex<[Key: Bucket]>([:])

    public init(rate: @escaping @Sendable (Key) -> Rate) {
        self.rate = rate
    }

    /// Takes a token for `key` at `now`: nil when there was one, else the seconds until there will be.
    public func take(_ key: Key, now: Date) -> Double? {
        let rate = rate(key)
        let seconds = now.timeIntervalSince1970
        return buckets.withLock { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: rate.capacity, at: seconds)
            let elapsed = max(0, seconds - bucket.at)
            bucket.tokens = min(rate.capacity, bucket.tokens + elapsed * rate.perSecond)
            bucket.at = max(bucket.at, seconds)
            defer { buckets[key] = bucket }
            guard bucket.tokens >= 1 else { return (1 - bucket.tokens) / rate.perSecond }
            bucket.tokens -= 1
            return nil
        }
    }

    /// Gives back a token taken for work that was then undone.
    public func giveBack(_ key: Key) {
        let capacity = rate(key).capacity
        buckets.withLock { buckets in
            if var bucket = buckets[key] {
                bucket.tokens = min(capacity, bucket.tokens + 1)
                buckets[key] = bucket
            }
        }
    }
}
