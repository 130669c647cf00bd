// Measures rule evaluation for one event: the compiled engine against the naive reference evaluator, over
// generated realistic rule sets of 10, 1,000 and 10,000 rules spread over 100 projects.
//
// Run: HERALD_BENCHMARKS=1 swift package benchmark --target RuleEngineBenchmarks
// Each measured iteration evaluates 1,000 different events; the reported figures are per event.
//
// The event stream has a production mix of issue states (most events land on ongoing issues). The
// "every event a new issue" benchmarks are the worst case for rules that fire on first_seen.

import Benchmark
import HeraldCore
import HeraldRules
import HeraldTestSupport

/// A generated rule set with both evaluators and an event stream, built once before measuring.
struct Fixture: Sendable {
    let engine: RuleEngine
    let reference: ReferenceEvaluator
    let cases: [EvaluationCase]

    init(ruleCount: Int, issueMix: Workload.IssueMix = .production) {
        var workload = Workload(style: .realistic, projects: 100, seed: 2026, issueMix: issueMix)
        let ruleSet = workload.ruleSet(count: ruleCount)
        engine = RuleEngine(ruleSet: ruleSet)
        reference = ReferenceEvaluator(ruleSet: ruleSet)
        cases = workload.cases(count: 1_000)
    }
}

/// What both evaluators do: one event in, the matched rules and deliveries out.
protocol EventEvaluator: Sendable {
    func evaluate(_ event: Event, context: EvaluationContext) -> Evaluation
}

extension RuleEngine: EventEvaluator {}
extension ReferenceEvaluator: EventEvaluator {}

/// Registers one benchmark. Generic rather than taking a closure, so the measured loop calls the evaluator
/// directly. Events and contexts are passed straight out of buffers, borrowed, as a server passes the event
/// it holds: reading them out of captured arrays would copy each first, which is the harness's cost.
func measure<Evaluator: EventEvaluator>(
    _ name: String, _ evaluator: Evaluator, _ events: [Event], _ contexts: [EvaluationContext]
) {
    Benchmark(name) { benchmark in
        events.withUnsafeBufferPointer { events in
            contexts.withUnsafeBufferPointer { contexts in
                for index in benchmark.scaledIterations {
                    let position = index % events.count
                    blackHole(evaluator.evaluate(events[position], context: contexts[position]))
                }
            }
        }
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        timeUnits: .nanoseconds,
        scalingFactor: .kilo,
        maxDuration: .seconds(5),
        maxIterations: 10_000)

    func register(_ label: String, _ fixture: Fixture) {
        let events = fixture.cases.map(\.event)
        let contexts = fixture.cases.map(\.context)
        measure("Compiled engine, \(label)", fixture.engine, events, contexts)
        measure("Naive evaluator, \(label)", fixture.reference, events, contexts)
    }

    for ruleCount in [10, 1_000, 10_000] {
        register("\(ruleCount) rules", Fixture(ruleCount: ruleCount))
    }
    register("10000 rules, every event a new issue", Fixture(ruleCount: 10_000, issueMix: .allNew))
}
