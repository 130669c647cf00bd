import Foundation
import HeraldCore
import HeraldTestSupport
import Testing

@testable import HeraldRules

@Suite struct RuleEngineTests {
    /// The compiled engine against the naive reference on thousands of random rule sets and events, drawn
    /// over every trigger, filter and operator.
    @Test(arguments: 0..<40)
    func agreesWithTheReferenceEvaluator(seed: Int) {
        var workload = Workload(style: .adversarial, projects: 3, seed: UInt64(seed))
        // A differential test on inputs that never match proves nothing.
        #expect(Self.compareWithReference(&workload, rules: 60, events: 100, label: "seed \(seed)") > 100)
    }

    @Test(arguments: [Workload.IssueMix.production, .allNew])
    func agreesWithTheReferenceOnRealisticRuleSets(issueMix: Workload.IssueMix) {
        var workload = Workload(style: .realistic, projects: 10, seed: 7, issueMix: issueMix)
        #expect(Self.compareWithReference(&workload, rules: 2_000, events: 500, label: "realistic") > 500)
    }

    /// Evaluates the workload's events with the engine, `explain` and the reference, expecting the same
    /// matches and deliveries from all; returns how many rules matched in all.
    private static func compareWithReference(_ workload: inout Workload, rules: Int, events: Int, label: String) -> Int {
        let ruleSet = workload.ruleSet(count: rules)
        let engine = RuleEngine(ruleSet: ruleSet)
        let reference = ReferenceEvaluator(ruleSet: ruleSet)
        var matches = 0
        for evaluation in workload.cases(count: events) {
            let expected = reference.evaluate(evaluation.event, context: evaluation.context)
            let actual = engine.evaluate(evaluation.event, context: evaluation.context)
            #expect(actual.matched.map(\.name) == expected.matched.map(\.name), "\(label): \(evaluation.event)")
            #expect(actual.deliveries == expected.deliveries, "\(label): deliveries")
            let explained = engine.explain(evaluation.event, context: evaluation.context).rules.filter(\.matched)
            #expect(explained.map(\.name) == expected.matched.map(\.name), "\(label): explain")
            matches += expected.matched.count
        }
        return matches
    }

    @Test func rulesSendingToOneChannelShareOneDelivery() throws {
        let ruleSet = try Fixtures.load("""
            project: payments
            rules:
              - name: First
                when: [every_event]
                then:
                  - slack: {workspace: acme, channels: ["#payments", "#oncall"], tags: [release, region], notes: Runbook A}
                  - webhook: pager
              - name: Second
                when: [every_event]
                then:
                  - slack: {workspace: acme, channels: ["#PAYMENTS-x", "#payments"], tags: [region, browser]}
                  - slack: {workspace: globex, channels: ["#payments"]}
                  - webhook: {name: pager}
              - name: Third
                when: [first_seen]
                then: [{slack: {workspace: acme, channels: ["#payments"]}}]
            """)
        let evaluation = RuleEngine(ruleSet: ruleSet).evaluate(
            Event(level: .error), context: ExplainTests.context(state: .ongoing))
        #expect(evaluation.matched.map(\.name) == ["First", "Second"])
        #expect(evaluation.deliveries == [
            Delivery(kind: .slack, target: "acme", channel: "#payments", rules: ["First", "Second"],
                     tags: ["release", "region", "browser"], notes: ["Runbook A"]),
            Delivery(kind: .slack, target: "acme", channel: "#oncall", rules: ["First"], tags: ["release", "region"],
                     notes: ["Runbook A"]),
            Delivery(kind: .webhook, target: "pager", channel: nil, rules: ["First", "Second"]),
            Delivery(kind: .slack, target: "acme", channel: "#PAYMENTS-x", rules: ["Second"], tags: ["region", "browser"]),
            Delivery(kind: .slack, target: "globex", channel: "#payments", rules: ["Second"]),
        ])
    }

    @Test func channelsTakenFromTheEvent() throws {
        let ruleSet = try Fixtures.load("""
            project: payments
            rules:
              - name: By team
                when: [every_event]
                then: [{slack: {workspace: globex, channels: ["#team-{{ tags.team }}", "#{{ project }}-{{ level }}-{{environment}}"]}}]
            """)
        let engine = RuleEngine(ruleSet: ruleSet)
        let withTeam = engine.evaluate(
            Event(level: .fatal, environment: "Prod EU", tags: [.init("Team", "Checkout Core")]),
            context: ExplainTests.context())
        #expect(withTeam.deliveries.map(\.channel) == ["#team-checkout-core", "#payments-fatal-prod-eu"])
        #expect(withTeam.deliveries.allSatisfy { $0.problem == nil })

        let withoutTeam = engine.evaluate(Event(level: .error), context: ExplainTests.context())
        #expect(withoutTeam.deliveries.map(\.channel) == ["#team-{{ tags.team }}", "#{{ project }}-{{ level }}-{{environment}}"])
        #expect(withoutTeam.deliveries.map(\.problem) == [
            "channel #team-{{ tags.team }} cannot be rendered: the event has no tag 'team'",
            "channel #{{ project }}-{{ level }}-{{environment}} cannot be rendered: the event has no environment",
        ])
    }

    /// Counters are the expensive part: they must not be read for a rule whose cheap conditions failed, and
    /// must be read once per window however many rules ask.
    @Test func countersAreReadOnlyWhenNeededAndOnce() throws {
        final class CountingCounts: IssueCounts, @unchecked Sendable {
            var asked: [String] = []
            func count(_ metric: CountMetric, in window: Interval, endingAgo shift: Interval?) -> Int {
                asked.append("\(metric) \(window) \(shift?.rawValue ?? "now")")
                return 1_000
            }
        }
        let ruleSet = try Fixtures.load("""
            project: payments
            rules:
              - {name: A, when: [{frequency: {count: 10, interval: 1h}}, first_seen], if: [{level: fatal}], then: [{webhook: pager}]}
              - {name: B, when: [{frequency: {count: 10, interval: 1h}}, first_seen], then: [{webhook: pager}]}
              - {name: C, when: [{frequency: {count: 500, interval: 1h}}], then: [{webhook: pager}]}
              - {name: D, when: [first_seen, {unique_users: {count: 1, interval: 1d}}], then: [{webhook: pager}]}
            """)
        let counts = CountingCounts()
        var context = ExplainTests.context(state: .new)
        context.counts = counts
        let matched = RuleEngine(ruleSet: ruleSet).evaluate(Event(level: .error), context: context).matched
        #expect(matched.map(\.name) == ["B", "C", "D"])
        // A fails its level filter and never asks; B answers from first_seen before its counter; D likewise.
        #expect(counts.asked == ["events 1h now"])
    }

    @Test func eventsOfOtherProjectsMatchNothing() throws {
        let engine = RuleEngine(ruleSet: try Fixtures.load(Fixtures.rulesYAML))
        var context = ExplainTests.context(state: .new)
        context.project = "web"
        #expect(engine.evaluate(ExplainTests.event, context: context).matched.isEmpty)
        #expect(engine.explain(ExplainTests.event, context: context).rules.isEmpty)
    }
}
