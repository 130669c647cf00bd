import Logging
import ServiceLifecycle
import Synchronization

/// Turns the regular-expression matches that gave up at a limit into a metric and a warning per rule, every
/// `interval`: such a rule's `matches` and `not_matches` conditions were false for those events, which its
/// author needs to know.
struct RegexLimitWatch: Service {
    let rules: RuleBook
    let metrics: HeraldMetrics
    let interval: Duration
    let logger: Logger

    func run() async throws {
        // What was reported already, per rule, for one rule set: a reload brings new patterns, counted from zero.
        let reported = Mutex<(version: String, hits: [String: Int])>((rules.engine.ruleSet.version, [:]))
        try await repeatUntilShutdown(every: interval, logger: logger, failure: "reading regex limit hits failed") {
            let ruleSet = rules.engine.ruleSet
            reported.withLock { reported in
                if reported.version != ruleSet.version { reported = (ruleSet.version, [:]) }
            }
            for rule in ruleSet.rules {
                let key = rule.project + "/" + rule.name
                let hits = rule.regexLimitHits
                let new = reported.withLock { reported in
                    defer { reported.hits[key] = hits }
                    return hits - reported.hits[key, default: 0]
                }
                guard new > 0 else { continue }
                metrics.ruleRegexLimit(rule: key).increment(by: new)
                logger.warning(
                    "a rule's regular expression gave up at its limit; its matches and not_matches were false there",
                    metadata: ["rule": "\(key)", "location": "\(rule.location)", "times": "\(new)"])
            }
        }
    }
}
