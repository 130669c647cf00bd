import Foundation
import HeraldConfig
import HeraldCore
import HeraldTestSupport
import Testing

@testable import HeraldRules

@Suite struct PatternTests {
    @Test func matchesAnywhereWithInlineFlags() throws {
        #expect(try Pattern("^(Timeout|Deadline)").matches("TimeoutError"))
        #expect(try !Pattern("^(Timeout|Deadline)").matches("ReadTimeout"))
        #expect(try Pattern("(?i)timeout").matches("ReadTIMEOUT"))
        #expect(try Pattern("\\bdb-\\d+\\b").matches("talking to db-3 now"))
        #expect(try Pattern("^ü+$").matches("üüü"))  // UTF-8 mode
        #expect(try Pattern("^\\w+$").matches("naïve"))  // Unicode properties for \w
    }

    @Test func reportsPCRE2sMessageAndOffset() {
        #expect(throws: Pattern.CompileError(message: "missing closing parenthesis", offset: 4)) { try Pattern("(abc") }
        #expect(throws: Pattern.CompileError(message: "quantifier does not follow a repeatable item", offset: 0)) {
            try Pattern("*x")
        }
    }

    @Test func isSharedSafelyAcrossThreads() async throws {
        let pattern = try Pattern("^worker-(\\d+)$")
        let results = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<64 {
                group.addTask { (0..<200).allSatisfy { _ in pattern.matches("worker-\(index)") && !pattern.matches("x") } }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.count == 64 && results.allSatisfy { $0 })
    }
}

@Suite struct TimeSpanTests {
    @Test(arguments: [("30m", 1_800), ("1h30m", 5_400), ("2d", 172_800), ("1w", 604_800), ("45s", 45), ("1h0m", 3_600)])
    func parses(_ text: String, _ seconds: Int) {
        #expect(TimeSpan(parsing: text)?.seconds == seconds)
    }

    @Test(arguments: ["", "30", "m", "1x", "30m1h", "1h 30m", "-5m", "0m", "1.5h"])
    func rejects(_ text: String) {
        #expect(TimeSpan(parsing: text) == nil)
    }

    @Test func printsTheShortestSpelling() {
        #expect(TimeSpan(seconds: 5_400).description == "1h30m")
        #expect(TimeSpan(seconds: 2_592_000).description == "4w2d")
    }
}

@Suite struct ExplainInputTests {
    @Test func readsTheIssueAndCounts() throws {
        let input = try ExplainInput(json: Data("""
            {"project": "payments", "level": "warning", "message": "slow", "tags": {"region": "eu-west-1"},
             "now": "2026-11-23T10:00:00Z", "latest_release": "1.2",
             "issue": {"state": "regression", "times_seen": 7, "first_seen": "2026-11-20T10:00:00Z",
                       "assignee": "team:backend", "counts": {"events": {"1h": 150, "1h@1w": 30}, "users": {"15m": 4}}}}
            """.utf8))
        #expect(input.project == "payments")
        #expect(input.event.level == .warning)
        #expect(input.issue == IssueFacts(state: .regression, timesSeen: 7,
                                          firstSeen: FlexibleTimestamp.parse("2026-11-20T10:00:00Z")!, assignee: .team("backend")))
        #expect(input.now == FlexibleTimestamp.parse("2026-11-23T10:00:00Z"))
        #expect(input.latestRelease == "1.2")
        #expect(input.counts.count(.events, in: .oneHour, endingAgo: nil) == 150)
        #expect(input.counts.count(.events, in: .oneHour, endingAgo: .oneWeek) == 30)
        #expect(input.counts.count(.users, in: .fifteenMinutes, endingAgo: nil) == 4)
        #expect(input.counts.count(.users, in: .oneDay, endingAgo: nil) == 0)
    }

    @Test func withoutAnIssueTheEventIsTheFirstOfANewOne() throws {
        let input = try ExplainInput(json: Data(#"{"project": "web", "message": "x", "user": {"id": 5}}"#.utf8))
        #expect(input.issue.state == .new)
        #expect(input.issue.timesSeen == 1)
        #expect(input.counts.count(.events, in: .oneWeek, endingAgo: nil) == 1)
        #expect(input.counts.count(.users, in: .oneHour, endingAgo: nil) == 1)
    }

    @Test(arguments: [
        (#"{"message": "x"}"#, "the input needs \"project\": the slug of the event's project"),
        (#"{"project": "p", "level": "loud"}"#, "level: unknown level 'loud'; expected one of debug, info, warning, error, fatal"),
        (#"{"project": "p", "issue": {"state": "sleeping"}}"#, "issue.state: Cannot initialize IssueState from invalid String value sleeping"),
        (#"{"project": "p", "issue": {"counts": {"events": {"2h": 1}}}}"#, "issue.counts.events: '2h' is not an interval (1m, 5m, 15m, 1h, 1d, 1w, 30d) or interval@interval"),
        ("[1, 2", "the input: The given data was not valid JSON"),
    ])
    func rejectsBadInputNamingTheField(_ json: String, _ message: String) {
        do {
            _ = try ExplainInput(json: Data(json.utf8))
            Issue.record("accepted \(json)")
        } catch {
            #expect(error.description.hasPrefix(message), "\(error.description)")
        }
    }
}

@Suite struct RuleCheckTests {
    @Test func validSetsGiveASummaryAndBrokenOnesEveryDiagnostic() {
        let directory = TemporaryDirectory()
        let config = directory.write("herald.yaml", Fixtures.configYAML)
        directory.write("rules/payments.yaml", Fixtures.rulesYAML)
        let check = RuleCheck(configPath: config, rulesDirectory: directory.path + "/rules", environment: Fixtures.environment)
        guard case .valid(_, let summary) = check.run() else {
            Issue.record("the example did not load")
            return
        }
        #expect(summary.hasPrefix("ok: 1 rule for 1 project in 1 file, version "))

        var missingSecret = Fixtures.environment
        missingSecret["SLACK_ACME_TOKEN"] = nil
        guard case .invalid(let diagnostics) = RuleCheck(configPath: config, rulesDirectory: directory.path + "/rules",
                                                          environment: missingSecret).run() else {
            Issue.record("a missing secret was accepted")
            return
        }
        #expect(diagnostics.all.map(\.description) == [
            "\(config):7:29: error: environment variable SLACK_ACME_TOKEN is not set (write ${SLACK_ACME_TOKEN:-default} to give a default)",
        ])
    }
}
