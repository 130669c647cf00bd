import Foundation
import HeraldStore
import Logging
import ServiceLifecycle

/// Ends ignores whose time has passed, every `interval`, so an issue shows as unresolved (and its messages
/// say so) as soon as its ignore runs out rather than at its next event.
struct IgnoreExpiryService: Service {
    let store: Store
    let interval: Duration
    /// Told when expiries queued message updates.
    let queued: @Sendable () -> Void
    let logger: Logger

    func run() async throws {
        try await repeatUntilShutdown(every: interval, logger: logger, failure: "ending ignores failed") {
            let ended = try await store.expireIgnores()
            if !ended.isEmpty {
                logger.info("ignores ran out", metadata: ["issues": "\(ended.map(\.shortID))"])
                queued()
            }
        }
    }
}
