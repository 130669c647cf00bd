import Foundation
import HeraldConfig
import HeraldCore
import HeraldRules
import HeraldStore
import HeraldTestSupport
import Testing

/// A store in a temporary directory with rules loaded from text, and events made up by the test.
struct StoreFixture {
    let directory = TemporaryDirectory()
    let store: Store
    let engine: RuleEngine
    private(set) var sequence = 0

    init(rules: String, configuration: Store.Configuration = Store.Configuration()) throws {
        store = try Store(path: directory.path + "/herald.sqlite", configuration: configuration)
        try store.syncProjects([(1, "payments"), (2, "web")])
        let config = try ConfigLoader(environment: [:])
            .load(text: RunningServer.configYAML(directory: directory.path), file: "herald.yaml")
        engine = RuleEngine(ruleSet: try RuleLoader(config: config).load(files: [("rules.yaml", rules)]))
    }

    /// Writes one event of the issue named `message`, at `now`.
    mutating func send(
        _ message: String = "Payment failed", at now: Date, release: String? = nil, user: String? = nil,
        environment: String = "production"
    ) async throws -> StoredEventResult {
        sequence += 1
        let event = Event(
            eventID: String(format: "%032x", sequence), level: .error, release: release, environment: environment,
            message: message, user: user.map { Event.User(id: $0) })
        let incoming = IncomingEvent(
            projectID: 1, projectSlug: "payments", event: event, grouping: Grouping(event: event), payload: Data("{}".utf8))
        let outcomes = try await store.ingest([incoming], engine: engine, now: now)
        guard case .stored(let result) = outcomes.first else {
            Issue.record("not stored: \(outcomes)")
            throw CancellationError()
        }
        return result
    }
}

let start = Date(timeIntervalSince1970: 1_795_000_000)

func minutes(_ count: Double) -> Date { start.addingTimeInterval(count * 60) }

/// Every trigger kind, one rule each, all with the shortest action interval so each event can fire.
let triggerRules = """
    project: payments
    rules:
      - name: first
        when: [first_seen]
        frequency: 1m
        then: [{webhook: {name: pager}}]
      - name: regression
        when: [regression]
        frequency: 1m
        then: [{webhook: {name: pager}}]
      - name: reappeared
        when: [reappeared]
        frequency: 1m
        then: [{webhook: {name: pager}}]
    """

@Suite struct IssueTransitionTests {
    @Test func anEventOnAResolvedIssueIsARegression() async throws {
        var fixture = try StoreFixture(rules: triggerRules)
        let first = try await fixture.send(at: minutes(0))
        #expect(first.state == .new)
        #expect(first.firedRules == ["first"])
        #expect(try await fixture.send(at: minutes(1)).state == .ongoing)
        try await fixture.store.change(issue: first.issueID, .resolve(inNextRelease: false), now: minutes(2))

        let regression = try await fixture.send(at: minutes(3))
        #expect(regression.state == .regression)
        #expect(regression.firedRules == ["regression"])
        let issue = try #require(try await fixture.store.issue(String(first.issueID)))
        #expect(issue.status == .unresolved)
        #expect(issue.substatus == .regressed)
        #expect(issue.timesSeen == 3)
    }

    @Test func resolvedInNextReleaseRegressesOnlyOnAnotherRelease() async throws {
        var fixture = try StoreFixture(rules: triggerRules)
        let first = try await fixture.send(at: minutes(0), release: "1.0")
        try await fixture.store.change(issue: first.issueID, .resolve(inNextRelease: true), now: minutes(1))

        let sameRelease = try await fixture.send(at: minutes(2), release: "1.0")
        #expect(sameRelease.state == nil)
        #expect(sameRelease.firedRules.isEmpty)
        #expect(try await fixture.store.issue(String(first.issueID))?.status == .resolved)

        let nextRelease = try await fixture.send(at: minutes(3), release: "1.1")
        #expect(nextRelease.state == .regression)
        #expect(nextRelease.firedRules == ["regression"])
    }

    @Test func anIgnoredIssueCountsEventsAndReappearsAfterNMore() async throws {
        var fixture = try StoreFixture(rules: triggerRules)
        let first = try await fixture.send(at: minutes(0))
        try await fixture.store.change(issue: first.issueID, .ignore(.moreEvents(3)), now: minutes(1))
        for minute in 2...3 {
            let quiet = try await fixture.send(at: minutes(Double(minute)))
            #expect(quiet.state == nil)
            #expect(quiet.matchedRules == 0)
            #expect(quiet.deliveries == 0)
        }
        #expect(try await fixture.store.issue(String(first.issueID))?.timesSeen == 3)
        let third = try await fixture.send(at: minutes(4))
        #expect(third.state == .reappeared)
        #expect(third.firedRules == ["reappeared"])
        let issue = try #require(try await fixture.store.issue(String(first.issueID)))
        #expect(issue.status == .unresolved)
        #expect(issue.ignore == nil)
        #expect(issue.timesSeen == 4)
    }

    @Test func anIgnoredIssueReappearsOnceItsTimeIsUp() async throws {
        var fixture = try StoreFixture(rules: triggerRules)
        let first = try await fixture.send(at: minutes(0))
        try await fixture.store.change(issue: first.issueID, .ignore(.duration(30 * 60)), now: minutes(0))
        #expect(try await fixture.send(at: minutes(29)).state == nil)
        #expect(try await fixture.send(at: minutes(31)).state == .reappeared)
    }

    @Test func anIssueIgnoredForeverNeverFires() async throws {
        var fixture = try StoreFixture(rules: triggerRules)
        let first = try await fixture.send(at: minutes(0))
        try await fixture.store.change(issue: first.issueID, .ignore(.forever), now: minutes(0))
        for day in 1...3 {
            #expect(try await fixture.send(at: minutes(Double(day) * 1_440)).state == nil)
        }
        let issue = try await fixture.store.issue(String(first.issueID))
        #expect(issue?.status == .ignored)
        #expect(issue?.timesSeen == 4)
        #expect(try await fixture.store.firings(issue: first.issueID).count == 1)
    }

    @Test func aNewIssueBecomesOngoingAfterAWeek() async throws {
        var fixture = try StoreFixture(rules: triggerRules)
        let first = try await fixture.send(at: minutes(0))
        _ = try await fixture.send(at: minutes(6 * 1_440))
        #expect(try await fixture.store.issue(String(first.issueID))?.substatus == .new)
        _ = try await fixture.send(at: minutes(7 * 1_440))
        #expect(try await fixture.store.issue(String(first.issueID))?.substatus == .ongoing)
    }
}

@Suite struct CounterTriggerTests {
    @Test func frequencyFiresOnTheEventThatCrossesTheThreshold() async throws {
        var fixture = try StoreFixture(rules: """
            project: payments
            rules:
              - name: busy
                when: [{frequency: {count: 3, interval: 1h}}]
                frequency: 1m
                then: [{webhook: {name: pager}}]
            """)
        // Three events in the hour: not more than 3.
        for minute in [0.0, 10, 20] {
            #expect(try await fixture.send(at: minutes(minute)).firedRules.isEmpty)
        }
        #expect(try await fixture.send(at: minutes(30)).firedRules == ["busy"])
        // Two hours later the window holds one event.
        #expect(try await fixture.send(at: minutes(150)).firedRules.isEmpty)
    }

    @Test func uniqueUsersCountsDistinctUsersInTheWindow() async throws {
        var fixture = try StoreFixture(rules: """
            project: payments
            rules:
              - name: many users
                when: [{unique_users: {count: 2, interval: 15m}}]
                frequency: 1m
                then: [{webhook: {name: pager}}]
            """)
        for (minute, user) in [(0.0, "a"), (1, "b"), (2, "a"), (3, "b"), (4, nil)] as [(Double, String?)] {
            #expect(try await fixture.send(at: minutes(minute), user: user).firedRules.isEmpty)
        }
        #expect(try await fixture.send(at: minutes(5), user: "c").firedRules == ["many users"])
        // Twenty minutes on, a and b have left the window.
        #expect(try await fixture.send(at: minutes(25), user: "a").firedRules.isEmpty)
    }

    @Test func frequencyChangeComparesWithTheSameWindowEarlier() async throws {
        var fixture = try StoreFixture(rules: """
            project: payments
            rules:
              - name: surge
                when: [{frequency_change: {percent: 100, interval: 1h, compared_to: 1d}}]
                frequency: 1m
                then: [{webhook: {name: pager}}]
            """)
        // Yesterday: 2 events in the hour.
        _ = try await fixture.send(at: minutes(0))
        _ = try await fixture.send(at: minutes(10))
        // Today, the same hour: 4 is +100%, not more; the fifth is +150%.
        let day = 1_440.0
        for minute in [0.0, 5, 10, 15] {
            #expect(try await fixture.send(at: minutes(day + minute)).firedRules.isEmpty)
        }
        #expect(try await fixture.send(at: minutes(day + 20)).firedRules == ["surge"])
    }
}

@Suite struct ActionIntervalTests {
    @Test func aRuleFiresAtMostOncePerIntervalPerIssue() async throws {
        var fixture = try StoreFixture(rules: """
            project: payments
            rules:
              - name: every
                when: [every_event]
                frequency: 5m
                then:
                  - slack: {workspace: acme, channels: ["#a", "#b"]}
            """)
        var fired: [Bool] = []
        for minute in [0.0, 1, 4.9, 5, 6, 10.5] {
            fired.append(!(try await fixture.send(at: minutes(minute)).firedRules.isEmpty))
        }
        #expect(fired == [true, false, false, true, false, true])
        // Another issue has its own interval.
        #expect(try await fixture.send("Other problem", at: minutes(6)).firedRules == ["every"])
        let issue = try #require(try await fixture.store.issue("PAYMENTS-1"))
        #expect(try await fixture.store.firings(issue: issue.id).count == 3)
        #expect(try await fixture.store.deliveries(issue: issue.id).count == 6)
    }

    @Test func theEnvironmentGateComesFirst() async throws {
        var fixture = try StoreFixture(rules: """
            project: payments
            rules:
              - name: prod only
                environment: production
                when: [every_event]
                frequency: 1m
                then: [{webhook: {name: pager}}]
            """)
        #expect(try await fixture.send(at: minutes(0), environment: "staging").firedRules.isEmpty)
        // The staging event did not take the interval.
        #expect(try await fixture.send(at: minutes(0.5)).firedRules == ["prod only"])
    }
}

@Suite struct RetentionTests {
    @Test func keepsTheNewestEventsPerIssueAndThoseADeliveryNeeds() async throws {
        var fixture = try StoreFixture(rules: """
            project: payments
            rules:
              - name: first
                when: [first_seen]
                then: [{webhook: {name: pager}}]
            """, configuration: Store.Configuration(eventsPerIssue: 3))
        let first = try await fixture.send(at: minutes(0))
        for minute in 1...9 { _ = try await fixture.send(at: minutes(Double(minute))) }
        let events = try await fixture.store.events(issue: first.issueID, limit: 100)
        // The newest three, and the first, which the pending webhook delivery still refers to.
        #expect(events.map(\.eventID) == [10, 9, 8, 1].map { String(format: "%032x", $0) })
        #expect(try await fixture.store.issue(String(first.issueID))?.timesSeen == 10)
    }

    @Test func prunesCountersAndFiringsPastTheRetention() async throws {
        var fixture = try StoreFixture(rules: """
            project: payments
            rules:
              - name: every
                when: [every_event]
                frequency: 1m
                then: [{webhook: {name: pager}}]
            """, configuration: Store.Configuration(counterRetention: 86_400))
        let first = try await fixture.send(at: minutes(0))
        _ = try await fixture.send(at: minutes(3 * 1_440))
        let report = try await fixture.store.prune(now: minutes(3 * 1_440 + 1), chunk: 2)
        // The first event's minute, hour and day buckets, its user-less event leaves no user rows,
        // its claim was replaced by the newer one, and its firing and (still pending) delivery.
        #expect(report.rows["issue_counts"] == 3)
        #expect(report.rows["rule_firings"] == 1)
        #expect(report.rows["outbox"] == 0)
        #expect(try await fixture.store.firings(issue: first.issueID).count == 1)
        #expect(try await fixture.store.prune(now: minutes(3 * 1_440 + 1)).total == 0)
    }
}
