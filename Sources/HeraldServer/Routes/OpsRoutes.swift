import Foundation
import HeraldCore
import HeraldStore
import Hummingbird
import NIOCore

/// `GET /healthz` and `GET /metrics`: open, for load balancers and Prometheus.
///
/// `/healthz` answers 503 whenever Herald cannot take events: the database does not answer, or every place
/// in the ingest queue is taken (new events get 429), so a load balancer sends senders elsewhere.
struct OpsRoutes {
    let store: Store
    let rules: RuleBook
    let pipeline: IngestPipeline
    let bodies: BodyBudget
    let metrics: HeraldMetrics

    func register(on router: Router<HeraldRequestContext>) {
        router.get("/healthz") { _, _ in
            let reachable = await store.isReachable()
            let loaded = rules.current
            let inProgress = pipeline.inProgress
            let saturated = inProgress >= pipeline.capacity
            let healthy = reachable && !saturated
            return try JSONResponse(
                [
                    "status": healthy ? "ok" : "failing",
                    "storage": reachable ? "ok" : "unreachable",
                    "ingest": [
                        "status": saturated ? "refusing: every place in the queue is taken" : "ok",
                        "in_progress": inProgress, "capacity": pipeline.capacity,
                        "body_bytes": bodies.inUse, "body_budget_bytes": bodies.capacity,
                    ] as [String: any Sendable],
                    "rules": [
                        "version": loaded.engine.ruleSet.version, "count": loaded.engine.ruleSet.rules.count,
                        "loaded_at": Timestamp.text(loaded.loadedAt),
                    ] as [String: any Sendable],
                ],
                status: healthy ? .ok : .serviceUnavailable)
        }
        router.get("/metrics") { _, _ in
            if let depth = try? await store.outboxDepth() { metrics.outboxDepth.record(depth) }
            metrics.rulesLoaded.record(rules.engine.ruleSet.rules.count)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: metrics.render())))
        }
    }
}
