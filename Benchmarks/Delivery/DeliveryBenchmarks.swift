// Fan-out throughput: the dispatcher draining an outbox to 1,000 Slack channels across three workspaces of the
// in-process chat double (the real Slack wire protocol over loopback HTTP), with pacing on.
//
// Run: HERALD_BENCHMARKS=1 swift package --scratch-path .build-benchmarks benchmark --target DeliveryBenchmarks
//
// Each run writes the outbox first (one alert per issue, each a first message with Block Kit, tags and
// buttons), then starts the dispatcher alone and stops the clock when the double holds every message. Results
// are recorded in the database in batches, as in `herald serve`. Reported: deliveries/s, and the pacing check
// read off the double's arrival times.

import Benchmark
import Foundation

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [], warmupIterations: 0, maxDuration: .seconds(600), maxIterations: 1)

    let throughput = BenchmarkMetric.custom("deliveries/s", polarity: .prefersLarger, useScalingFactor: false)
    let violations = BenchmarkMetric.custom("pacing violations", useScalingFactor: false)
    let most = BenchmarkMetric.custom("most messages to one channel in 1 s", useScalingFactor: false)
    let metrics = [throughput, violations, most]

    // Three messages a channel fit in its burst: nothing but the machine limits the rate.
    Benchmark("Fan-out, 1,000 channels × 3 (within the burst of 3)", configuration: .init(metrics: metrics)) { benchmark in
        let result = try await DeliveryLoad.run(messagesPerChannel: 3, burst: 3, interval: 1)
        benchmark.measurement(throughput, Int(result.deliveriesPerSecond))
        benchmark.measurement(violations, result.pacingViolations)
        benchmark.measurement(most, result.mostInOneSecond)
    }

    // Six a channel: three at once, then one a second. The floor is 3 s, so at most 2,000/s can be reached.
    Benchmark("Fan-out, 1,000 channels × 6 (burst 3, then 1/s)", configuration: .init(metrics: metrics)) { benchmark in
        let result = try await DeliveryLoad.run(messagesPerChannel: 6, burst: 3, interval: 1)
        benchmark.measurement(throughput, Int(result.deliveriesPerSecond))
        benchmark.measurement(violations, result.pacingViolations)
        benchmark.measurement(most, result.mostInOneSecond)
    }
}
