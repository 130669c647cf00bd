import Foundation
import HeraldCore
import HeraldTestSupport
import Testing

@testable import HeraldRules

/// Table-driven verdicts: every trigger, filter and operator, each checked through the compiled engine and
/// through `explain`, which must agree.
@Suite struct ExplainTests {
    static let now = Date(timeIntervalSince1970: 1_790_000_000)

    /// An event with a bit of everything, for filters to look at.
    static let event = Event(
        platform: "python", level: .error, release: "2.0.0", environment: "production",
        message: "Timeout after 30s talking to db-3",
        exceptions: [
            ExceptionInfo(type: "ConnectionError", value: "reset by peer", mechanism: .init(type: "generic", handled: true),
                          frames: [.init(filename: "db.py", absPath: "/app/db.py", module: "app.db", function: "query",
                                         package: "app", contextLine: "conn.execute(sql)")]),
            ExceptionInfo(type: "TimeoutError", value: "deadline exceeded", mechanism: .init(handled: false),
                          frames: [.init(filename: "api.py", module: "app.api")]),
        ],
        tags: [.init("Region", "eu-west-1"), .init("customer_tier", "Enterprise"), .init("build", "1234")],
        user: .init(id: "42", email: "Ann@Example.com", username: "ann", ipAddress: "10.0.0.1"),
        request: .init(url: "https://shop.example.com/checkout?step=2", method: "POST"),
        sdk: .init(name: "sentry.python", version: "2.0"),
        extra: ["order": .object(["id": .number(981), "tags": .array([.string("a"), .string("b")])])],
        contexts: ["response": .object(["status_code": .number(503)])])

    static func context(
        state: IssueState = .ongoing, timesSeen: Int = 12, age: TimeInterval = 7_200, assignee: Assignee? = nil,
        latestRelease: String? = "2.0.0", counts: [FixedCounts.Key: Int] = [:]
    ) -> EvaluationContext {
        EvaluationContext(
            project: "payments",
            issue: IssueFacts(state: state, timesSeen: timesSeen, firstSeen: now.addingTimeInterval(-age), assignee: assignee),
            now: now, latestRelease: latestRelease, counts: FixedCounts(counts))
    }

    /// Builds a one-rule set from a `when` and an `if` and returns the verdict of both evaluators.
    func verdict(when: String = "[every_event]", if filters: String? = nil, environment: String? = nil,
                 context: EvaluationContext = context(), event: Event = event) throws -> Explanation.Verdict {
        var yaml = "project: payments\nrules:\n  - name: R\n    when: \(when)\n"
        if let filters { yaml += "    if: \(filters)\n" }
        if let environment { yaml += "    environment: \(environment)\n" }
        yaml += "    then: [{webhook: pager}]\n"
        let engine = RuleEngine(ruleSet: try Fixtures.load(yaml))
        let explanation = engine.explain(event, context: context)
        let verdict = try #require(explanation.rules.first)
        let matched = !engine.evaluate(event, context: context).matched.isEmpty
        #expect(verdict.matched == matched, "explain and the engine disagree on \(yaml)")
        return verdict
    }

    static let operatorCases: [(filter: String, matches: Bool)] = [
        // tags: keys compare case-insensitively, values too
        ("{tag: {key: region, eq: EU-WEST-1}}", true),
        ("{tag: {key: region, eq: eu-west-2}}", false),
        ("{tag: {key: region, ne: eu-west-2}}", true),
        ("{tag: {key: region, ne: eu-west-1}}", false),
        ("{tag: {key: missing, ne: x}}", true),  // negative operators pass when the tag is absent
        ("{tag: {key: missing, eq: x}}", false),
        ("{tag: {key: region, starts_with: eu-}}", true),
        ("{tag: {key: region, not_starts_with: eu-}}", false),
        ("{tag: {key: region, ends_with: WEST-1}}", true),
        ("{tag: {key: region, not_ends_with: -2}}", true),
        ("{tag: {key: customer_tier, contains: prise}}", true),
        ("{tag: {key: customer_tier, not_contains: prise}}", false),
        ("{tag: {key: region, in: [us-east-1, eu-west-1]}}", true),
        ("{tag: {key: region, in: [us-east-1]}}", false),
        ("{tag: {key: region, not_in: [us-east-1]}}", true),
        ("{tag: {key: region, not_in: [EU-west-1]}}", false),
        ("{tag: {key: build, is_set: true}}", true),
        ("{tag: {key: nothing, is_set: true}}", false),
        ("{tag: {key: nothing, not_set: true}}", true),
        ("{tag: {key: build, is_set: false}}", false),
        ("{tag: {key: customer_tier, matches: '^Enter'}}", true),
        ("{tag: {key: customer_tier, matches: '^enter'}}", false),  // regexes are case-sensitive...
        ("{tag: {key: customer_tier, matches: '(?i)^enter'}}", true),  // ...unless they say otherwise
        ("{tag: {key: customer_tier, not_matches: '^Free'}}", true),
        ("{tag: {key: build, gt: 1000}}", true),
        ("{tag: {key: build, lt: 1000}}", false),
        ("{tag: {key: region, gte: 0}}", false),  // not a number: numeric tests fail
        // attributes: positive operators pass if any value matches, negative ones only if none does
        ("{attribute: {name: exception.type, eq: timeouterror}}", true),
        ("{attribute: {name: exception.type, ne: TimeoutError}}", false),
        ("{attribute: {name: exception.type, not_in: [KeyError]}}", true),
        ("{attribute: {name: exception.value, contains: DEADLINE}}", true),
        ("{attribute: {name: message, matches: 'db-\\d+'}}", true),
        ("{attribute: {name: message, not_matches: 'db-\\d+'}}", false),
        ("{attribute: {name: platform, eq: python}}", true),
        ("{attribute: {name: environment, eq: production}}", true),
        ("{attribute: {name: type, eq: error}}", true),
        ("{attribute: {name: error.handled, eq: 'false'}}", true),
        ("{attribute: {name: error.unhandled, eq: 'true'}}", true),
        ("{attribute: {name: error.handled, ne: 'false'}}", false),
        ("{attribute: {name: user.id, eq: '42'}}", true),
        ("{attribute: {name: user.email, ends_with: '@example.com'}}", true),
        ("{attribute: {name: user.username, eq: ann}}", true),
        ("{attribute: {name: user.ip_address, starts_with: '10.'}}", true),
        ("{attribute: {name: http.method, eq: post}}", true),
        ("{attribute: {name: http.url, contains: /checkout}}", true),
        ("{attribute: {name: http.status_code, gte: 500}}", true),
        ("{attribute: {name: http.status_code, lt: 500}}", false),
        ("{attribute: {name: sdk.name, starts_with: sentry.}}", true),
        ("{attribute: {name: stacktrace.code, contains: execute}}", true),
        ("{attribute: {name: stacktrace.module, eq: app.api}}", true),
        ("{attribute: {name: stacktrace.filename, eq: db.py}}", true),
        ("{attribute: {name: stacktrace.abs_path, eq: /app/db.py}}", true),
        ("{attribute: {name: stacktrace.package, eq: app}}", true),
        ("{attribute: {name: extra.order.id, eq: '981'}}", true),
        ("{attribute: {name: extra.order.tags, in: [b]}}", true),
        ("{attribute: {name: extra.order.missing, is_set: true}}", false),
        // level
        ("{level: {eq: error}}", true), ("{level: {ne: error}}", false), ("{level: {gt: warning}}", true),
        ("{level: {gte: fatal}}", false), ("{level: {lt: fatal}}", true), ("{level: {lte: warning}}", false),
        ("{level: error}", true),
        // issue filters (the issue is 2 h old, seen 12 times, unassigned, latest release 2.0.0)
        ("{age: {older_than: 1h}}", true), ("{age: {older_than: 1d}}", false),
        ("{age: {newer_than: 3h}}", true), ("{age: {newer_than: 30m}}", false),
        ("{occurrences: {gte: 12}}", true), ("{occurrences: {gte: 13}}", false),
        ("{assigned_to: unassigned}", true), ("{assigned_to: {team: backend}}", false),
        ("latest_release", true),
        // groups
        ("{any: [{level: fatal}, {tag: {key: region, eq: eu-west-1}}]}", true),
        ("{any: [{level: fatal}, {level: debug}]}", false),
        ("{all: [{level: error}, {level: fatal}]}", false),
        ("{none: [{level: fatal}, {level: debug}]}", true),
        ("{none: [{level: error}]}", false),
    ]

    @Test(arguments: operatorCases.indices)
    func filterVerdict(_ index: Int) throws {
        let (filter, expected) = Self.operatorCases[index]
        let verdict = try verdict(if: "[\(filter)]")
        #expect(verdict.matched == expected, "\(filter): \(verdict.reason)")
    }

    static let triggerCases: [(when: String, state: IssueState, counts: [FixedCounts.Key: Int], matches: Bool)] = [
        ("[first_seen]", .new, [:], true),
        ("[first_seen]", .ongoing, [:], false),
        ("[regression]", .regression, [:], true),
        ("[regression]", .reappeared, [:], false),
        ("[reappeared]", .reappeared, [:], true),
        ("[reappeared]", .new, [:], false),
        ("[every_event]", .ongoing, [:], true),
        ("[{frequency: {count: 100, interval: 1h}}]", .ongoing, [.init(.events, .oneHour): 101], true),
        ("[{frequency: {count: 100, interval: 1h}}]", .ongoing, [.init(.events, .oneHour): 100], false),  // more than
        ("[{frequency: {count: 5, interval: 1m}}]", .ongoing, [.init(.events, .oneHour): 50], false),  // other window
        ("[{unique_users: {count: 10, interval: 15m}}]", .ongoing, [.init(.users, .fifteenMinutes): 11], true),
        ("[{unique_users: {count: 10, interval: 15m}}]", .ongoing, [.init(.events, .fifteenMinutes): 99], false),
        ("[{frequency_change: {percent: 50, interval: 1h, compared_to: 1w}}]",
         .ongoing, [.init(.events, .oneHour): 151, .init(.events, .oneHour, endingAgo: .oneWeek): 100], true),
        ("[{frequency_change: {percent: 50, interval: 1h, compared_to: 1w}}]",
         .ongoing, [.init(.events, .oneHour): 150, .init(.events, .oneHour, endingAgo: .oneWeek): 100], false),
        ("[{frequency_change: {percent: 50, interval: 1h, compared_to: 1d}}]",
         .ongoing, [.init(.events, .oneHour): 500], false),  // nothing earlier: no increase, as Sentry
        ("{all: [every_event, first_seen]}", .ongoing, [:], false),
        ("{all: [every_event, first_seen]}", .new, [:], true),
        ("{none: [first_seen, regression]}", .reappeared, [:], true),
        ("[first_seen, regression]", .regression, [:], true),
    ]

    @Test(arguments: triggerCases.indices)
    func triggerVerdict(_ index: Int) throws {
        let (when, state, counts, expected) = Self.triggerCases[index]
        let verdict = try verdict(when: when, context: Self.context(state: state, counts: counts))
        #expect(verdict.matched == expected, "\(when): \(verdict.reason)")
    }

    @Test func aMissNamesTheFirstFailingConditionWithTheActualValue() throws {
        let tag = try verdict(if: "[{level: {gte: warning}}, {tag: {key: customer_tier, eq: free}}, {level: fatal}]")
        #expect(tag.reason == "if: tag customer_tier eq \"free\" (\"Enterprise\")")

        let trigger = try verdict(when: "[first_seen, {frequency: {count: 100, interval: 1h}}]",
                                  context: Self.context(state: .ongoing, counts: [.init(.events, .oneHour): 12]))
        #expect(trigger.reason == "when: none of: first_seen (issue is ongoing); frequency > 100 events in 1h (12 events in 1h)")

        let environment = try verdict(environment: "staging")
        #expect(environment.reason == "environment is \"production\", the rule needs \"staging\"")

        let missing = try verdict(if: "[{attribute: {name: user.email, eq: x@example.com}}]",
                                  event: Event(level: .error))
        #expect(missing.reason == "if: attribute user.email eq \"x@example.com\" (not set)")

        let age = try verdict(if: "[{age: {older_than: 1d}}]")
        #expect(age.reason == "if: age older_than 1d (first seen 2h ago)")

        let matched = try verdict(when: "[regression]", if: "[{level: error}]", context: Self.context(state: .regression))
        #expect(matched.matched)
        #expect(matched.reason == "when: regression (issue is regression); all filters passed")
    }

    @Test func disabledRulesAreExplainedAndNeverMatch() throws {
        let ruleSet = try Fixtures.load("""
            project: payments
            rules:
              - {name: Off, enabled: false, when: [every_event], then: [{webhook: pager}]}
            """)
        let engine = RuleEngine(ruleSet: ruleSet)
        #expect(engine.evaluate(Self.event, context: Self.context()).matched.isEmpty)
        let explanation = engine.explain(Self.event, context: Self.context())
        #expect(explanation.rules.map(\.reason) == ["the rule is disabled (enabled: false)"])
    }

    @Test func theIssueExampleMatchesTheEventItDescribes() throws {
        let engine = RuleEngine(ruleSet: try Fixtures.load(Fixtures.rulesYAML))
        var event = Self.event
        event.tags.append(.init("team", "Checkout Core"))
        let explanation = engine.explain(event, context: Self.context(state: .new))
        #expect(explanation.rules.map(\.matched) == [true])
        #expect(explanation.deliveries.map { "\($0.kind.rawValue) \($0.target) \($0.channel ?? "-")" } == [
            "slack acme #payments", "slack acme #oncall", "slack globex #team-checkout-core",
            "mattermost ops town-square", "webhook pager -",
        ])
        #expect(explanation.deliveries[0].tags == ["environment", "release", "customer_tier"])
        #expect(explanation.deliveries[0].notes == ["Runbook: https://wiki.example/payments"])

        // The same event outside production is gated before any condition is read.
        event.environment = "staging"
        #expect(engine.explain(event, context: Self.context(state: .new)).rules.map(\.matched) == [false])
    }

    @Test func jsonOutputHasTheDocumentedShape() throws {
        let engine = RuleEngine(ruleSet: try Fixtures.load(Fixtures.rulesYAML))
        var event = Self.event
        event.tags.append(.init("team", "core"))
        let json = engine.explain(event, context: Self.context(state: .new)).json
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        let rules = object["rules"] as! [[String: Any]]
        #expect(rules.count == 1)
        #expect(rules[0]["project"] as? String == "payments")
        #expect(rules[0]["name"] as? String == "New errors in production")
        #expect(rules[0]["matched"] as? Bool == true)
        #expect(rules[0]["reason"] is String)
        let deliveries = object["deliveries"] as! [[String: Any]]
        #expect(deliveries.count == 5)
        #expect(deliveries[0]["kind"] as? String == "slack")
        #expect(deliveries[0]["target"] as? String == "acme")
        #expect(deliveries[0]["channel"] as? String == "#payments")
        #expect(deliveries[0]["rules"] as? [String] == ["New errors in production"])
        #expect(deliveries[0]["tags"] as? [String] == ["environment", "release", "customer_tier"])
    }
}
