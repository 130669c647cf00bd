import Foundation
import HeraldRules
import Logging
import ServiceLifecycle
import UnixSignals

/// Reloads the rules on SIGHUP and whenever a file under the rules directory changes.
///
/// Changes are found by polling the files' paths, sizes and modification times: portable, and cheap for a
/// directory of rule files. `POST /-/reload` calls `RuleBook.reload` directly.
struct RuleReloader: Service {
    let book: RuleBook
    /// nil: no polling.
    let pollInterval: Duration?
    let metrics: HeraldMetrics
    let logger: Logger

    func run() async throws {
        // Shutdown cancels the loop's sleep; that is how it ends, not an error.
        try await ignoringCancellation {
            try await cancelWhenGracefulShutdown {
                try await withThrowingDiscardingTaskGroup { group in
                    group.addTask {
                        for await _ in await UnixSignalsSequence(trapping: .sighup) {
                            reload(because: "SIGHUP")
                        }
                    }
                    if let pollInterval {
                        group.addTask {
                            while true {
                                try await Task.sleep(for: pollInterval)
                                if book.filesChanged { reload(because: "a rule file changed") }
                            }
                        }
                    }
                }
            }
        }
    }

    func reload(because reason: String) {
        Self.reload(book, because: reason, metrics: metrics, logger: logger)
    }

    /// Reloads and reports the outcome in the log and the metrics.
    @discardableResult
    static func reload(_ book: RuleBook, because reason: String, metrics: HeraldMetrics, logger: Logger)
        -> RuleBook.ReloadOutcome
    {
        let outcome = book.reload()
        switch outcome {
        case .reloaded(let version, let rules):
            metrics.ruleReloads(outcome: "reloaded").increment()
            logger.info("rules reloaded", metadata: ["reason": "\(reason)", "version": "\(version)", "rules": "\(rules)"])
        case .unchanged(let version):
            metrics.ruleReloads(outcome: "unchanged").increment()
            logger.info("rules unchanged", metadata: ["reason": "\(reason)", "version": "\(version)"])
        case .failed(let diagnostics):
            metrics.ruleReloads(outcome: "failed").increment()
            logger.error(
                "rules not reloaded; the running set stays",
                metadata: ["reason": "\(reason)", "errors": "\(diagnostics.all.count)",
                           "running": "\(book.engine.ruleSet.version)"])
            for diagnostic in diagnostics.all {
                logger.error("\(diagnostic.description)")
            }
        }
        return outcome
    }
}
