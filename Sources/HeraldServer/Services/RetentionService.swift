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
        // Shutdown cancels the loop's sleep; that is how it ends, not an error.
        try await ignoringCancellation {
            try await cancelWhenGracefulShutdown {
                while true {
                    do {
                        let report = try await store.prune()
                        if report.total > 0 {
                            logger.info("retention pruned rows", metadata: report.rows.mapValues { "\($0)" })
                        }
                    } catch is CancellationError {
                        throw CancellationError()
                    } catch {
                        logger.error("retention pass failed", metadata: ["error": "\(error)"])
                    }
                    try await Task.sleep(for: interval)
                }
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
