import CoreMetrics
import Foundation
import Prometheus
import Synchronization

/// Herald's metrics, through swift-metrics with a Prometheus registry of this server's own, so two servers in
/// one process (tests) never share counts. `GET /metrics` renders the registry.
public final class HeraldMetrics: Sendable {
    public let registry: PrometheusCollectorRegistry
    /// Makes metrics in this server's registry, for the parts that keep their own (delivery).
    public let factory: PrometheusMetricsFactory

    public let eventsAcceptedTotal: CoreMetrics.Counter
    public let issuesCreatedTotal: CoreMetrics.Counter
    public let ruleEvaluationsTotal: CoreMetrics.Counter
    public let ruleMatchesTotal: CoreMetrics.Counter
    public let ruleFiringsTotal: CoreMetrics.Counter
    public let deliveriesQueuedTotal: CoreMetrics.Counter
    public let evaluationLatency: CoreMetrics.Timer
    public let batchCommitLatency: CoreMetrics.Timer
    public let outboxDepth: CoreMetrics.Gauge
    public let ingestInFlight: CoreMetrics.Gauge
    public let rulesLoaded: CoreMetrics.Gauge
    private let cache = Mutex<[String: CoreMetrics.Counter]>([:])

    public init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        let fine: [Duration] = [
            .microseconds(5), .microseconds(10), .microseconds(25), .microseconds(50), .microseconds(100),
            .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(5), .milliseconds(25),
        ]
        factory.durationHistogramBuckets = [
            "herald_rule_evaluation_seconds": fine,
            "herald_delivery_attempt_seconds": [
                .milliseconds(1), .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(250),
                .seconds(1), .seconds(2.5), .seconds(10), .seconds(30),
            ],
            "herald_ingest_batch_seconds": [
                .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
                .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(1_000),
            ],
        ]
        self.factory = factory
        eventsAcceptedTotal = CoreMetrics.Counter(label: "herald_events_accepted_total", factory: factory)
        issuesCreatedTotal = CoreMetrics.Counter(label: "herald_issues_created_total", factory: factory)
        ruleEvaluationsTotal = CoreMetrics.Counter(label: "herald_rule_evaluations_total", factory: factory)
        ruleMatchesTotal = CoreMetrics.Counter(label: "herald_rule_matches_total", factory: factory)
        ruleFiringsTotal = CoreMetrics.Counter(label: "herald_rule_firings_total", factory: factory)
        deliveriesQueuedTotal = CoreMetrics.Counter(label: "herald_outbox_rows_written_total", factory: factory)
        evaluationLatency = CoreMetrics.Timer(label: "herald_rule_evaluation_seconds", factory: factory)
        batchCommitLatency = CoreMetrics.Timer(label: "herald_ingest_batch_seconds", factory: factory)
        outboxDepth = CoreMetrics.Gauge(label: "herald_outbox_pending", factory: factory)
        ingestInFlight = CoreMetrics.Gauge(label: "herald_ingest_in_flight", factory: factory)
        rulesLoaded = CoreMetrics.Gauge(label: "herald_rules_loaded", factory: factory)
    }

    /// Rejected requests by reason (`bad_request`, `unauthorized`, `unknown_project`, `too_large`,
    /// `queue_full`, `unsupported_encoding`, `rate_limited`, `failed`).
    public func eventsRejected(reason: String) -> CoreMetrics.Counter {
        counter("herald_events_rejected_total", ("reason", reason))
    }

    /// Regular-expression matches of a rule that gave up at a limit (`herald_rule_regex_limit_total{rule}`).
    public func ruleRegexLimit(rule: String) -> CoreMetrics.Counter {
        counter("herald_rule_regex_limit_total", ("rule", rule))
    }

    /// Events refused because their project had opened as many new issues as its limit allows
    /// (`herald_new_issues_limited_total{project}`).
    public func newIssuesLimited(project: String) -> CoreMetrics.Counter {
        counter("herald_new_issues_limited_total", ("project", project))
    }

    /// Connections Herald closed because no request's head came in time (`header_timeout`, `idle_timeout`).
    public func connectionsClosed(reason: String) -> CoreMetrics.Counter {
        counter("herald_connections_closed_total", ("reason", reason))
    }

    public func ruleReloads(outcome: String) -> CoreMetrics.Counter {
        counter("herald_rule_reloads_total", ("outcome", outcome))
    }

    private func counter(_ label: String, _ dimension: (String, String)) -> CoreMetrics.Counter {
        cache.withLock { cache in
            let key = label + "\u{0}" + dimension.1
            if let counter = cache[key] { return counter }
            let counter = CoreMetrics.Counter(label: label, dimensions: [dimension], factory: factory)
            cache[key] = counter
            return counter
        }
    }

    /// The Prometheus text exposition of every metric.
    /// The exposition text, with a `# HELP` line before each metric's `# TYPE` line. The metrics are made
    /// through swift-metrics, which carries no help text, so the help lives here, once per name.
    public func render() -> [UInt8] {
        let text = String(decoding: registry.emitToBuffer(), as: UTF8.self)
        var output = ""
        output.reserveCapacity(text.utf8.count + 4_096)
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("# TYPE "), let name = line.dropFirst(7).split(separator: " ").first,
                let help = Self.help[String(name)]
            {
                output += "# HELP \(name) \(help)\n"
            }
            output += line
            output += "\n"
        }
        if output.hasSuffix("\n\n") { output.removeLast() }
        return Array(output.utf8)
    }

    /// What each metric counts; README.md lists the same.
    static let help: [String: String] = [
        "herald_events_accepted_total": "Events stored (each answered 200 only after its commit).",
        "herald_events_rejected_total": "Ingest requests refused, by reason.",
        "herald_issues_created_total": "Issues opened by a first event.",
        "herald_new_issues_limited_total": "Events refused because their project reached its new-issue limit, by project.",
        "herald_rule_evaluations_total": "Events evaluated against the rules.",
        "herald_rule_matches_total": "Rules that matched an event (before the action interval).",
        "herald_rule_firings_total": "Rules that fired for an issue (matched and outside their action interval).",
        "herald_rule_evaluation_seconds": "Time to evaluate the rules for one event.",
        "herald_rule_regex_limit_total": "Regular-expression matches that gave up at the match or depth limit, by rule.",
        "herald_rule_reloads_total": "Rule reloads, by outcome (reloaded, unchanged, failed).",
        "herald_rules_loaded": "Rules in the running rule set.",
        "herald_ingest_batch_seconds": "Time to commit one batch of events (one SQLite transaction).",
        "herald_ingest_in_flight": "Ingest requests in progress, from reading the body to the answer.",
        "herald_outbox_pending": "Deliveries waiting to be sent, retries included.",
        "herald_outbox_rows_written_total": "Outbox rows written by ingestion (one per message to send).",
        "herald_deliveries_total": "Delivery attempts' outcomes, by kind, target and outcome.",
        "herald_delivery_attempt_seconds": "Time of one delivery attempt, by kind.",
        "herald_connections_closed_total": "Connections Herald closed itself, by reason (header or idle deadline).",
    ]
}

extension CoreMetrics.Timer {
    func recordInterval(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
