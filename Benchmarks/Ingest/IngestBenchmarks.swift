// Ingest throughput and latency through the Sentry envelope endpoint, over loopback, with 100 rules loaded
// and every commit durable (SQLite synchronous=FULL, WAL).
//
// Run: HERALD_BENCHMARKS=1 swift package --scratch-path .build-benchmarks benchmark --target IngestBenchmarks
//
// Each benchmark starts a real Herald server in this process on a free port, with its SQLite file in a
// temporary directory, and drives it from `IngestLoad.connections` kept-alive connections, each sending its
// next envelope as soon as the last one is answered. Delivery runs too: the rules' Slack messages go to the
// in-process chat double. Events are Python-SDK-shaped error events over 1,000
// recurring issues, with 1% new issues. Reported per run: events/s, p50 and p99 latency of the 200 answers,
// and resident memory.

import Benchmark
import Foundation
import HeraldTestSupport

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [],
        warmupIterations: 0,
        maxDuration: .seconds(600),
        maxIterations: 1)

    let throughput = BenchmarkMetric.custom("events/s", polarity: .prefersLarger, useScalingFactor: false)
    let p50 = BenchmarkMetric.custom("p50 latency (µs)", useScalingFactor: false)
    let p99 = BenchmarkMetric.custom("p99 latency (µs)", useScalingFactor: false)
    let rssStart = BenchmarkMetric.custom("resident MB after the first 100,000", useScalingFactor: false)
    let rssEnd = BenchmarkMetric.custom("resident MB 1,000 events before the end", useScalingFactor: false)
    let delivered = BenchmarkMetric.custom("Slack messages delivered", useScalingFactor: false)
    let metrics = [throughput, p50, p99, rssStart, rssEnd, delivered]

    for (name, events) in [("Envelope ingest, 100 rules, 200,000 events", 200_000),
                           ("Envelope ingest, 100 rules, 1,000,000 events", 1_000_000)] {
        Benchmark(name, configuration: .init(metrics: metrics)) { benchmark in
            let result = try await IngestLoad.run(events: events)
            benchmark.measurement(throughput, Int(result.eventsPerSecond))
            benchmark.measurement(p50, Int(result.latency(percentile: 50).microseconds))
            benchmark.measurement(p99, Int(result.latency(percentile: 99).microseconds))
            benchmark.measurement(rssStart, result.residentAfterWarmup / 1_000_000)
            benchmark.measurement(rssEnd, result.residentAtEnd / 1_000_000)
            benchmark.measurement(delivered, result.deliveries)
        }
    }
}

extension Duration {
    var microseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1e6 + Double(attoseconds) / 1e12
    }
}
