// Rendering the console's issue page: one issue with 100 stored events (each with a stack trace, tags, user
// and request) and 50 shown firings of 10 rules, read from a real SQLite file through the store functions the
// admin API uses, each firing re-explained (at most 20 explain runs), both charts, the tag breakdown, the
// deliveries and the audit trail. The target is under 50 ms a page on this machine; figures in Benchmarks/README.md.
//
// Run: HERALD_BENCHMARKS=1 swift package --scratch-path .build-benchmarks benchmark --target ConsoleBenchmarks

import Benchmark
import Foundation
import HeraldConfig
import HeraldConsole
import HeraldCore
import HeraldRules
import HeraldStore
import HeraldTestSupport

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .mallocCountTotal, .peakMemoryResident], warmupIterations: 3,
        maxDuration: .seconds(30), maxIterations: 200)

    Benchmark("Issue page, 100 stored events and 50 firings") { benchmark in
        let fixture = try await IssuePageFixture.make()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try await fixture.pages.issue("1", viewer: fixture.viewer))
        }
        benchmark.stopMeasurement()
    }

    Benchmark("Issue list, 50 of 1,000 issues") { benchmark in
        let fixture = try await IssuePageFixture.make(otherIssues: 999)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try await fixture.pages.issues(IssueListRequest(), viewer: fixture.viewer))
        }
        benchmark.stopMeasurement()
    }
}

/// A store holding the page's issue, built by ingesting events as `herald serve` does, two minutes apart so
/// every rule fires again for each.
struct IssuePageFixture {
    let pages: ConsolePages
    let viewer: Viewer
    /// Held so the database outlives the fixture's construction (the directory is removed when released).
    let directory: TemporaryDirectory

    static func make(otherIssues: Int = 0) async throws -> IssuePageFixture {
        let directory = TemporaryDirectory()
        let config = Fixtures.config()
        let store = try Store(path: directory.path + "/herald.sqlite")
        try store.syncProjects(config.projects.map { ($0.id, $0.slug) })
        let rules = (1...10).map { number in
            """
              - name: Rule \(number)
                when: [every_event]
                if:
                  - level: {gte: error}
                  - tag: {key: region, eq: eu-west-1}
                frequency: 1m
                then:
                  - slack: {workspace: acme, channels: ["#payments"]}
            """
        }.joined(separator: "\n")
        let engine = RuleEngine(ruleSet: try Fixtures.load("project: payments\nrules:\n" + rules, path: "rules/payments.yaml"))
        let start = Date().addingTimeInterval(-Double(100 * 120))
        for index in 0..<100 {
            try await ingest(store, engine: engine, message: nil, at: start.addingTimeInterval(Double(index * 120)))
        }
        for index in 0..<otherIssues {
            try await ingest(store, engine: engine, message: "other problem \(index)", at: Date())
        }
        let pages = ConsolePages(store: store, config: config, rules: {
            LoadedRules(engine: engine, loadedAt: Date(), failure: nil)
        })
        guard let user = config.user(email: "alice@example.com") else { throw FixtureError() }
        return IssuePageFixture(pages: pages, viewer: Viewer(user: user, csrf: "csrf"), directory: directory)
    }

    static func ingest(_ store: Store, engine: RuleEngine, message: String?, at now: Date) async throws {
        var event = Event(
            eventID: UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased(), timestamp: now,
            platform: "python", level: .error, release: "payments@2.4.\(Int.random(in: 1...3))", environment: "production",
            message: message,
            exceptions: message == nil ? [ExceptionInfo(
                type: "KeyError", value: "'card'", mechanism: .init(type: "django", handled: false),
                frames: [
                    .init(filename: "django/core/handlers/base.py", function: "_get_response", lineno: 197, inApp: false),
                    .init(filename: "payments/views.py", function: "checkout", lineno: 88, inApp: true,
                          contextLine: "card = request.data['card']"),
                    .init(filename: "payments/cards.py", function: "charge", lineno: 12, inApp: true,
                          contextLine: "return gateway.charge(card)"),
                ])] : [],
            tags: [.init("region", "eu-west-1"), .init("customer_tier", ["free", "pro", "enterprise"].randomElement()!),
                   .init("browser", "Firefox \(Int.random(in: 120...133))")],
            user: .init(id: String(Int.random(in: 1...40)), email: nil),
            request: .init(url: "https://shop.example.com/checkout", method: "POST"))
        event.extra = ["cart_items": .number(3)]
        let incoming = IncomingEvent(
            projectID: 1, projectSlug: "payments", event: event, grouping: Grouping(event: event), payload: event.sentryPayload())
        _ = try await store.ingest([incoming], engine: engine, now: now)
    }
}

/// The fixture config lacks the user the pages are rendered for.
struct FixtureError: Error {}
