import Foundation
import HeraldCore
import HeraldStore
import Hummingbird
import NIOCore

/// `GET /healthz` and `GET /metrics`: open, for load balancers and Prometheus.
struct OpsRoutes {
    let store: Store
    let rules: RuleBook
    let metrics: HeraldMetrics

    func register(on router: Router<BasicRequestContext>) {
        router.get("/healthz") { _, _ in
            let reachable = await store.isReachable()
            let loaded = rules.current
            return try JSONResponse(
                [
                    "status": reachable ? "ok" : "failing",
                    "storage": reachable ? "ok" : "unreachable",
                    "rules": [
                        "version": loaded.engine.ruleSet.version, "count": loaded.engine.ruleSet.rules.count,
                        "loaded_at": Timestamp.text(loaded.loadedAt),
                    ] as [String: any Sendable],
                ],
                status: reachable ? .ok : .serviceUnavailable)
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
