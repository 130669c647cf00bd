import Foundation
import HeraldStore
import Logging
import ServiceLifecycle

/// Deletes what retention no longer keeps, every `interval`.
struct RetentionService: Service {
    let store: Store
    let interval: Duration
    let logger: Logger

    func run() async throws {
        try await repeatUntilShutdown(every: interval, logger: logger, failure: "retention pass failed") {
            let report = try await store.prune()
            try await store.pruneSignIns()
            if report.total > 0 {
                logger.info("retention pruned rows", metadata: report.rows.mapValues { "\($0)" })
            }
        }
    }
}

/// Runs `pass` every `interval` until graceful shutdown, logging a failed pass and carrying on: the loop
/// behind the background services.
func repeatUntilShutdown(
    every interval: Duration, logger: Logger, failure: String, _ pass: @escaping @Sendable () async throws -> Void
) async throws {
    // Shutdown cancels the loop's sleep; that is how it ends, not an error.
    try await ignoringCancellation {
        try await cancelWhenGracefulShutdown {
            while true {
                do {
                    try await pass()
                } catch is CancellationError {
                    throw CancellationError()
                } catch {
                    logger.error("\(failure)", metadata: ["error": "\(error)"])
                }
                try await Task.sleep(for: interval)
            }
        }
    }
}

/// Runs `body`, treating its cancellation as a normal end: background loops stop that way on shutdown.
func ignoringCancellation(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch is CancellationError {
        return
    }
}
