import HeraldCore
import Foundation
import HeraldTestSupport
import Testing

/// `herald test-connection`, `herald notify-test` and `herald deliveries`, run as the real binary against the
/// chat double.
@Suite struct CommandTests {
    /// Runs `herald` with the arguments; its exit status and everything it printed.
    func herald(_ arguments: [String], in directory: TemporaryDirectory) async throws -> (status: Int32, output: String) {
        try await ChildProcess(ChildProcess.heraldExecutable, arguments, directory: directory.path).result()
    }

    @Test func testConnectionPrintsSlacksExactAnswer() async throws {
        let chat = try await RunningServer.chatDouble()
        let directory = TemporaryDirectory()
        directory.write("herald.yaml", RunningServer.configYAML(directory: directory.path, chat: chat))

        let good = try await herald(["test-connection", "acme", "--channel", "#payments"], in: directory)
        #expect(good.status == 0, "\(good.output)")
        #expect(good.output.contains("POST \(chat.slackURL)/chat.postMessage\nHTTP 200\n{\"ok\":true,\"channel\":\"CACME1\""))
        #expect(good.output.contains("ok: slack acme accepted the test message"))
        #expect(chat.messages.map(\.channelID) == ["CACME1"])

        let missing = try await herald(["test-connection", "acme", "--channel", "#nowhere"], in: directory)
        #expect(missing.status == 1)
        #expect(missing.output.contains(#"{"ok":false,"error":"channel_not_found"}"#), "\(missing.output)")

        // globex posts to its fallback channel when no channel is given.
        let fallback = try await herald(["test-connection", "globex"], in: directory)
        #expect(fallback.status == 0, "\(fallback.output)")

        let mattermost = try await herald(["test-connection", "ops", "--channel", "incidents"], in: directory)
        #expect(mattermost.status == 0, "\(mattermost.output)")
        #expect(mattermost.output.contains("GET \(chat.mattermostURL)/api/v4/teams/name/ops/channels/name/incidents\nHTTP 200"))
        #expect(mattermost.output.contains("POST \(chat.mattermostURL)/api/v4/posts\nHTTP 201"))

        let webhook = try await herald(["test-connection", "pager"], in: directory)
        #expect(webhook.status == 0, "\(webhook.output)")
        #expect(chat.requests(path: "/hooks/pager").first?.headers["x-herald-signature"]?.hasPrefix("sha256=") == true)

        let unknown = try await herald(["test-connection", "nobody"], in: directory)
        #expect(unknown.status == 1)
        #expect(unknown.output.contains("no Slack workspace, Mattermost connector or webhook named 'nobody'"))
        try await chat.stop()
    }

    @Test func notifyTestSendsTheRulesRealMessageEverywhereItPoints() async throws {
        let chat = try await RunningServer.chatDouble()
        let directory = TemporaryDirectory()
        directory.write("herald.yaml", RunningServer.configYAML(directory: directory.path, chat: chat))
        directory.write("rules/payments.yaml", twoWorkspaces)

        let result = try await herald(["notify-test", "--rule", "Payment failures"], in: directory)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("slack acme #payments: sent (channel CACME1, message "))
        #expect(result.output.contains("slack globex #alerts: sent (channel CGLOBEX1, message "))
        let messages = chat.messages
        #expect(messages.count == 3)
        for message in messages {
            #expect(message.blockTexts.contains { $0.contains("Test notification sent by `herald notify-test`") })
            #expect(message.blockTexts.contains("*region*\nsample-region"))
            #expect(message.actionElements.count == 5)
        }

        // A given event, in Herald's own format.
        directory.write("event.json", #"{"message": "Card declined", "level": "fatal", "tags": {"region": "ap"}}"#)
        // Rule names match whatever their case, as their uniqueness does.
        let given = try await herald(["notify-test", "--rule", "PAYMENT failures", "--event", "event.json"], in: directory)
        #expect(given.status == 0, "\(given.output)")
        #expect(chat.messages.count == 6)
        #expect(chat.messages.last?.blockTexts.contains { $0.hasPrefix(":skull: *<") && $0.contains("|Card declined>*") } == true)

        let unknown = try await herald(["notify-test", "--rule", "Nope"], in: directory)
        #expect(unknown.status == 1)
        #expect(unknown.output.contains("no rule named 'Nope'"))
        try await chat.stop()
    }

    @Test func deliveriesListsWhatHappened() async throws {
        let chat = try await RunningServer.chatDouble()
        chat.script("#oncall", .error("not_in_channel"))
        let directory = TemporaryDirectory()
        let harness = try await Harness.start(rules: twoWorkspaces, chat: chat, directory: directory)
        try await harness.send()
        _ = try await harness.settled()
        try await harness.server.stop()

        let all = try await herald(["deliveries"], in: directory)
        #expect(all.status == 0, "\(all.output)")
        let lines = all.output.split(separator: "\n")
        #expect(lines.first?.hasPrefix("ID  STATUS") == true)
        #expect(lines.count == 4)
        #expect(all.output.contains("posted to CACME1 as 1700000000."))

        let failed = try await herald(["deliveries", "--failed"], in: directory)
        let failedLines = failed.output.split(separator: "\n")
        #expect(failedLines.count == 2)
        #expect(failedLines.last?.contains("failed") == true)
        #expect(failedLines.last?.contains("PAYMENTS-1") == true)
        #expect(failedLines.last?.contains("slack acme #oncall") == true)
        #expect(failedLines.last?.contains("not_in_channel: chat.postMessage refused: not_in_channel") == true)

        let byIssue = try await herald(["deliveries", "--issue", "PAYMENTS-1", "--status", "delivered"], in: directory)
        #expect(byIssue.output.split(separator: "\n").count == 3)
        let noIssue = try await herald(["deliveries", "--issue", "PAYMENTS-99"], in: directory)
        #expect(noIssue.status == 1)
        try await chat.stop()
    }

    @Test func issuesCommandsActThroughTheSamePathAndTheServerUpdatesChat() async throws {
        let directory = TemporaryDirectory()
        let harness = try await Harness.start(rules: twoWorkspaces, directory: directory)
        try await harness.send()
        _ = try await harness.settled()

        let resolved = try await herald(["issues", "resolve", "PAYMENTS-1", "--by", "bob@example.com"], in: directory)
        #expect(resolved.status == 0, "\(resolved.output)")
        #expect(resolved.output == "PAYMENTS-1: Resolved by Bob via the command line\n")
        // The running server reads the queued updates on its own and sends them.
        try await eventually("the three messages updated") {
            harness.chat.messages.filter { $0.threadRef == nil && $0.updates == 1 }.count == 3
        }
        let again = try await herald(["issues", "resolve", "PAYMENTS-1", "--by", "bob@example.com"], in: directory)
        #expect(again.output == "PAYMENTS-1: already resolved; nothing changed\n")

        let stakeholder = try await herald(["issues", "ignore", "PAYMENTS-1", "--for", "2h", "--by", "carol@example.com"], in: directory)
        #expect(stakeholder.status == 1)
        #expect(stakeholder.output.contains("Carol is a stakeholder"))

        let ignored = try await herald(["issues", "ignore", "PAYMENTS-1", "--events", "100", "--by", "alice@example.com"], in: directory)
        #expect(ignored.output == "PAYMENTS-1: Ignored until 100 more events by Alice via the command line\n")
        let assigned = try await herald(["issues", "assign", "PAYMENTS-1", "--to", "bob@example.com"], in: directory)
        #expect(assigned.status == 0, "\(assigned.output)")
        #expect(assigned.output.hasPrefix("PAYMENTS-1: Assigned to Bob by "))
        // Durations and counts beyond the limits are refused where they are read; they once overflowed.
        for arguments in [["--for", "9223372036854775807h"], ["--for", "3651d"], ["--for", "99999999999999999999"],
                          ["--events", "9223372036854775807"], ["--for", "-5m"]] {
            let refused = try await herald(["issues", "ignore", "PAYMENTS-1"] + arguments, in: directory)
            #expect(refused.status != 0 && refused.status < 128, "\(arguments): \(refused.output)")
            #expect(refused.output.contains("--for") || refused.output.contains("--events"), "\(refused.output)")
        }
        let both = try await herald(["issues", "ignore", "PAYMENTS-1", "--forever", "--events", "3"], in: directory)
        #expect(both.status != 0)
        #expect(both.output.contains("give exactly one of --for, --events and --forever"))
        let issue = try await harness.server.admin("/api/v1/issues/PAYMENTS-1")
        #expect((issue.json["actions"] as? [Any])?.count == 3)
        try await harness.stop()
    }
}
