import Crypto
import Foundation
import Synchronization

/// Slack's v0 signature carries no nonce: within its five-minute window the same signed request, sent again,
/// verifies again. This remembers each signed request (its timestamp and body) until its window has passed,
/// so a replayed slash command or form submission is noticed and not acted on twice. Button clicks have their
/// own key (`action_ts`) in the action path as well.
///
/// Memory is bounded: entries leave when their window ends, and at most `capacity` are kept; past that (more
/// than a thousand signed requests a second for five minutes, which only a holder of the signing secret could
/// send) new requests are refused rather than remembered.
public final class SlackReplayGuard: Sendable {
    public static let capacity = 300_000

    private struct State {
        /// Digest → the time after which the request can no longer verify.
        var expiries: [[UInt8]: Double] = [:]
        var pruneAt = 1_024
    }

    private let state = Mutex(State())

    public init() {}

    /// Whether this signed request is new; false for a replay, and for anything beyond the capacity.
    public func isFirst(timestamp: String, body: [UInt8], now: Date = Date()) -> Bool {
        var hash = SHA256()
        hash.update(data: Array(timestamp.utf8) + [0x3A])
        hash.update(data: body)
        let digest = Array(hash.finalize())
        let nowSeconds = now.timeIntervalSince1970
        let expiry = (Double(timestamp) ?? nowSeconds) + SlackSignature.window
        return state.withLock { state in
            if let known = state.expiries[digest], known >= nowSeconds { return false }
            if state.expiries.count >= state.pruneAt {
                state.expiries = state.expiries.filter { $0.value >= nowSeconds }
                state.pruneAt = max(1_024, state.expiries.count * 2)
            }
            guard state.expiries.count < Self.capacity else { return false }
            state.expiries[digest] = expiry
            return true
        }
    }
}
