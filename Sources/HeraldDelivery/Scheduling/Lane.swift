import HeraldChat
import HeraldConfig
import HeraldCore
import HeraldStore

/// What a lane is for: one chat channel of one workspace or connector, or one webhook.
struct LaneKey: Hashable, Sendable {
    var kind: DeliveryKind
    var target: String
    /// nil for kinds without channels: a webhook is one lane.
    var channel: String?

    init(kind: DeliveryKind, target: String, channel: String?) {
        self.kind = kind
        self.target = target
        self.channel = kind.hasChannels ? channel ?? "" : nil
    }
}

/// A workspace, connector or webhook: what the per-target in-flight cap counts.
struct TargetKey: Hashable, Sendable {
    var kind: DeliveryKind
    var target: String
}

/// A delivery waiting in a lane, and the earliest time it may be tried.
struct Queued: Sendable {
    var delivery: PendingDelivery
    var notBefore: ContinuousClock.Instant
    /// What a 429 on its first request blocks.
    var scope: RateLimitScope
}

/// The deliveries of one chat channel (or one webhook), in order, with the channel's pacing.
struct Lane {
    let key: LaneKey
    let maxInFlight: Int
    /// Token bucket: `burst` messages at once, then one per `interval`. Webhooks are not paced.
    private let burst: Double
    private let interval: Double
    private var tokens: Double
    private var refilledAt: ContinuousClock.Instant
    private var queue: [Queued] = []
    private var headIndex = 0
    var inFlight = 0
    var isReady = false
    /// The first message in this channel, as learned from posts made since start.
    var parents: [Int64: MessageHandle] = [:]
    /// Rows whose posted message is known here but not yet written to the database: until it is, a row read
    /// from the database would not see it as its parent, so the lane must not be dropped.
    var unrecordedPosts: Set<Int64> = []

    var kind: DeliveryKind { key.kind }
    var target: TargetKey { TargetKey(kind: key.kind, target: key.target) }

    init(kind: DeliveryKind, target: String, channel: String? = nil, policy: Config.Delivery, now: ContinuousClock.Instant) {
        key = LaneKey(kind: kind, target: target, channel: channel)
        let paced = kind.hasChannels && policy.channelInterval > 0
        // A chat channel takes one message at a time, so a repeat firing finds the first message's handle
        // and replies stay in order.
        maxInFlight = kind.hasChannels ? 1 : policy.maxInFlightPerTarget
        burst = paced ? Double(policy.channelBurst) : .infinity
        interval = policy.channelInterval
        tokens = burst
        refilledAt = now
    }

    var isEmpty: Bool { headIndex == queue.count }

    /// Nothing queued or in flight, and the channel's burst fully back: dropping the lane loses nothing.
    func isIdle(now: ContinuousClock.Instant) -> Bool {
        guard isEmpty && inFlight == 0 && unrecordedPosts.isEmpty else { return false }
        guard burst.isFinite else { return true }
        return tokens + (now - refilledAt).seconds / interval >= burst
    }

    var head: Queued? { isEmpty ? nil : queue[headIndex] }

    mutating func append(_ item: Queued) { queue.append(item) }

    mutating func pushFront(_ item: Queued) {
        if headIndex > 0 {
            headIndex -= 1
            queue[headIndex] = item
        } else {
            queue.insert(item, at: 0)
        }
    }

    mutating func popHead() -> Queued {
        let item = queue[headIndex]
        headIndex += 1
        if headIndex == queue.count {
            queue.removeAll(keepingCapacity: true)
            headIndex = 0
        } else if headIndex >= 64 && headIndex * 2 >= queue.count {
            queue.removeFirst(headIndex)
            headIndex = 0
        }
        return item
    }

    /// nil when a message may go now; else when the next token arrives.
    mutating func tokenReadyAt(now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        guard burst.isFinite else { return nil }
        refill(now: now)
        if tokens >= 1 { return nil }
        return now + .milliseconds(Int64(((1 - tokens) * interval * 1_000).rounded(.up)))
    }

    mutating func takeToken(now: ContinuousClock.Instant) {
        guard burst.isFinite else { return }
        refill(now: now)
        tokens -= 1
    }

    private mutating func refill(now: ContinuousClock.Instant) {
        tokens = min(burst, tokens + (now - refilledAt).seconds / interval)
        refilledAt = now
    }
}

extension Duration {
    /// The duration in seconds, fractions included.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// A span of seconds from outside (a Retry-After, a backoff), made safe to add to an instant: negative
    /// values and NaN become 0, and anything beyond a year, infinity included, is held at a year.
    static func clampedSeconds(_ seconds: Double) -> Duration {
        guard seconds > 0 else { return .zero }
        return .milliseconds(Int64(min(seconds, 365 * 86_400) * 1_000))
    }
}
