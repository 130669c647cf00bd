// Evaluates the 10,000-rule realistic workload for a given number of rounds of 1,000 events, so that a
// callgrind run can count the instructions one evaluation takes: a figure that, unlike wall-clock time on
// a shared machine, repeats exactly. Run it through Benchmarks/instructions.sh.

import Foundation
import HeraldRules
import HeraldTestSupport

let arguments = CommandLine.arguments.dropFirst()
let rounds = arguments.first.flatMap(Int.init) ?? 2
let issueMix: Workload.IssueMix = arguments.contains("--all-new") ? .allNew : .production

var workload = Workload(style: .realistic, projects: 100, seed: 2026, issueMix: issueMix)
let engine = RuleEngine(ruleSet: workload.ruleSet(count: 10_000))
let cases = workload.cases(count: 1_000)
let events = cases.map(\.event)
let contexts = cases.map(\.context)

var deliveries = 0
events.withUnsafeBufferPointer { events in
    contexts.withUnsafeBufferPointer { contexts in
        for _ in 0..<rounds {
            for index in events.indices {
                deliveries += engine.evaluate(events[index], context: contexts[index]).deliveries.count
            }
        }
    }
}
print("\(rounds * events.count) evaluations, \(deliveries) deliveries")
