import Foundation
import HeraldStore
import HeraldTestSupport
import Synchronization
import Testing

/// Tests with a second program: the real Python `sentry-sdk` as a client, and the `herald` executable itself
/// killed mid-load.
@Suite struct ProcessTests {
    /// The Python SDK, unmodified, with only its DSN pointing at Herald. `.ci/run` installs it from PyPI.
    static let pythonClient = """
        import sys
        import sentry_sdk

        sentry_sdk.init(dsn=sys.argv[1], environment="production", release="shop@2.0.0", default_integrations=False)
        sentry_sdk.set_tag("region", "eu-west-1")
        sentry_sdk.set_user({"id": "user-17", "email": "ann@example.com"})

        def charge(order):
            raise ValueError(f"order {order} has no card on file")

        for order in (1001, 1002, 1003):
            try:
                charge(order)
            except ValueError:
                sentry_sdk.capture_exception()

        sentry_sdk.capture_message("Queue 7 is backing up: 3400 jobs waiting", level="warning")
        sentry_sdk.flush(timeout=10)
        print("sent")
        """

    @Test func theUnmodifiedSentryPythonSDKCreatesGroupedIssues() async throws {
        let server = try await RunningServer(rules: ["payments.yaml": """
            project: payments
            rules:
              - name: Production errors
                environment: production
                when: [first_seen]
                if:
                  - tag: {key: region, eq: eu-west-1}
                frequency: 1m
                then:
                  - slack: {workspace: acme, channels: ["#payments", "#oncall"], tags: [region]}
                  - slack: {workspace: globex, channels: ["#alerts"]}
            """])
        let script = server.directory.write("client.py", Self.pythonClient)
        let python = try ChildProcess("/usr/bin/env", ["python3", script, "http://pk-1@127.0.0.1:\(server.port)/1"])
        let status = await python.waitForExit()
        #expect(status == 0, "\(python.text)")
        #expect(python.text.contains("sent"))

        let list = try await server.admin("/api/v1/issues?project=payments").json
        let issues = try #require(list["issues"] as? [[String: Any]], "\(list)")
        #expect(issues.count == 2)
        let error = try #require(issues.first { ($0["title"] as? String)?.hasPrefix("ValueError") == true })
        #expect(error["title"] as? String == "ValueError: order 1001 has no card on file")
        #expect(error["times_seen"] as? Int == 3)
        #expect(error["users_seen"] as? Int == 1)
        #expect(error["level"] as? String == "error")
        #expect(error["last_release"] as? String == "shop@2.0.0")
        #expect((error["culprit"] as? String)?.contains("charge") == true)
        let message = try #require(issues.first { ($0["title"] as? String)?.hasPrefix("Queue") == true })
        #expect(message["level"] as? String == "warning")
        #expect(message["times_seen"] as? Int == 1)

        for issue in [error, message] {
            let detail = try await server.admin("/api/v1/issues/\(issue["id"]!)").json
            let events = try #require(detail["events"] as? [[String: Any]])
            #expect(events.allSatisfy { $0["environment"] as? String == "production" && $0["user"] as? String == "id:user-17" })
            let payload = try #require(events.first?["payload"] as? [String: Any])
            #expect((payload["tags"] as? [String: Any])?["region"] as? String == "eu-west-1")
            #expect((payload["sdk"] as? [String: Any])?["name"] as? String == "sentry.python")
            // One firing per issue (first_seen), one outbox row per (workspace, channel).
            #expect((detail["firings"] as? [Any])?.count == 1)
            let deliveries = try #require(detail["deliveries"] as? [[String: Any]])
            #expect(Set(deliveries.map { "\($0["target"]!) \($0["channel"]!)" }) == ["acme #payments", "acme #oncall", "globex #alerts"])
            #expect(deliveries.count == 3)
        }
        try await server.stop()
    }

    /// Every event that got a 200 before a SIGKILL is there after the restart, with its issue and outbox rows.
    @Test func nothingAcknowledgedIsLostToSIGKILL() async throws {
        let directory = TemporaryDirectory()
        let config = directory.write("herald.yaml", RunningServer.configYAML(directory: directory.path))
        directory.write("rules/payments.yaml", """
            project: payments
            rules:
              - name: New issue
                when: [first_seen]
                then:
                  - slack: {workspace: acme, channels: ["#a", "#b"]}
            """)
        let arguments = ["serve", "--config", config, "--rules", directory.path + "/rules"]
        let first = try ChildProcess(ChildProcess.heraldExecutable, arguments, directory: directory.path)
        let portText = try await first.waitForOutput(#"herald is serving.*|address=127\.0\.0\.1:(\d+)"#)
        let port = try #require(portText.flatMap { Int($0) }, "\(first.text)")

        // Eight clients send new issues as fast as they can; the server is killed while they are at it.
        let acknowledged = Acknowledged()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in 0..<8 {
                group.addTask {
                    let connection = try await HTTPTestConnection(port: port)
                    for number in 0..<100_000 {
                        let id = String(format: "%08x%024x", client, number)
                        let body = Envelope.build(items: [("event", #"{"event_id":"\#(id)","message":"crash test","fingerprint":["\#(id)"]}"#)])
                        let request = HTTPTestRequest("POST", "/api/1/envelope/", headers: [sentryAuth], body: body)
                        guard let response = try? await connection.send(request) else { return }
                        if response.status == 200 { acknowledged.ids.withLock { $0.append(id) } }
                    }
                }
            }
            while acknowledged.ids.withLock({ $0.count }) < 300 { try await Task.sleep(for: .milliseconds(5)) }
            first.signal(SIGKILL)
            try await group.waitForAll()
        }
        #expect(await first.waitForExit() == SIGKILL)
        let acked = acknowledged.ids.withLock { $0 }
        #expect(acked.count >= 300)

        let second = try ChildProcess(ChildProcess.heraldExecutable, arguments, directory: directory.path)
        let secondPort = try #require(try await second.waitForOutput(#"address=127\.0\.0\.1:(\d+)"#).flatMap { Int($0) })
        let store = try Store(path: directory.path + "/data/herald.sqlite")
        var missing: [String] = []
        for id in acked {
            guard let issue = try await store.issueID(project: 1, eventID: id) else {
                missing.append(id)
                continue
            }
            #expect(try await store.issue(String(issue))?.timesSeen == 1)
            #expect(try await store.firings(issue: issue).count == 1)
            #expect(try await store.deliveries(issue: issue, eventID: id).map { $0.channel ?? "" }.sorted() == ["#a", "#b"])
        }
        #expect(missing.isEmpty, "acknowledged but not stored: \(missing.prefix(5))")

        // The restarted server serves, and SIGTERM stops it cleanly.
        let after = try await HTTPTestRequest(
            "POST", "/api/v1/events", headers: [("Authorization", "Bearer pk-1")], json: #"{"message": "after restart"}"#
        ).send(port: secondPort)
        #expect(after.status == 200)
        second.signal(SIGTERM)
        #expect(await second.waitForExit() == 0, "\(second.text)")
    }

    /// SIGHUP reloads the rules; file watching is off here, so nothing else could have.
    @Test func sighupReloadsTheRules() async throws {
        let directory = TemporaryDirectory()
        let config = directory.write("herald.yaml", RunningServer.configYAML(directory: directory.path))
        directory.write("rules/payments.yaml", paymentsRules)
        let herald = try ChildProcess(
            ChildProcess.heraldExecutable,
            ["serve", "--config", config, "--rules", directory.path + "/rules", "--rules-poll-interval", "0"],
            directory: directory.path)
        let port = try #require(try await herald.waitForOutput(#"address=127\.0\.0\.1:(\d+)"#).flatMap { Int($0) })
        let rules = HTTPTestRequest("GET", "/-/rules", headers: [("Authorization", "Bearer \(RunningServer.adminToken)")])
        let before = try #require(try await rules.send(port: port).json["version"] as? String)

        directory.write("rules/web.yaml", "project: web\nrules:\n  - name: All\n    when: [every_event]\n    then: [{webhook: {name: pager}}]\n")
        // The reloader may not listen yet right after start-up; until it does, SIGHUP is ignored.
        var reloaded: String?
        for _ in 0..<30 where reloaded == nil {
            herald.signal(SIGHUP)
            reloaded = try await herald.waitForOutput(#"reason=SIGHUP rules=(2)"#, timeout: .seconds(1))
        }
        #expect(reloaded == "2", "\(herald.text)")
        let after = try await rules.send(port: port).json
        #expect(after["version"] as? String != before)
        #expect((after["rules"] as? [Any])?.count == 2)

        // A broken file on SIGHUP: the running set stays, the errors are logged with their place.
        directory.write("rules/web.yaml", "project: web\nrules:\n  - name: All\n    when: [every_evnt]\n")
        herald.signal(SIGHUP)
        #expect(try await herald.waitForOutput(#"(web\.yaml:4:\d+: error: [^\n]*every_evnt)"#) != nil, "\(herald.text)")
        #expect(try await rules.send(port: port).json["version"] as? String == after["version"] as? String)
        herald.signal(SIGTERM)
        #expect(await herald.waitForExit() == 0)
    }

    /// A second server on the same database is refused before it reads or writes anything, and one that
    /// cannot listen stops at once with the reason: neither runs on half-started, and the first keeps serving.
    @Test func aServerThatCannotStartStopsAtOnceWithTheReason() async throws {
        let directory = TemporaryDirectory()
        let config = directory.write("herald.yaml", RunningServer.configYAML(directory: directory.path))
        directory.write("rules/payments.yaml", paymentsRules)
        let first = try ChildProcess(
            ChildProcess.heraldExecutable, ["serve", "--config", config, "--rules", directory.path + "/rules"],
            directory: directory.path)
        let port = try #require(try await first.waitForOutput(#"address=127\.0\.0\.1:(\d+)"#).flatMap { Int($0) })

        let sameDatabase = try ChildProcess(
            ChildProcess.heraldExecutable, ["serve", "--config", config, "--rules", directory.path + "/rules"],
            directory: directory.path)
        let (refused, refusal) = await sameDatabase.result(within: .seconds(60))
        #expect(refused == 1, "\(refusal)")
        #expect(refusal.contains("another herald serve is using this database"), "\(refusal)")
        #expect(refusal.contains("process \(first.processIdentifier)"), "\(refusal)")

        // Its own database, the first one's port.
        let other = TemporaryDirectory()
        let samePort = other.write("herald.yaml", RunningServer.configYAML(directory: other.path)
            .replacingOccurrences(of: "  port: 0", with: "  port: \(port)"))
        let second = try ChildProcess(
            ChildProcess.heraldExecutable, ["serve", "--config", samePort, "--rules", directory.path + "/rules"],
            directory: other.path)
        let (status, output) = await second.result(within: .seconds(60))
        #expect(status == 1, "\(output)")
        #expect(output.contains("herald: stopped: cannot listen on 127.0.0.1:\(port): another program is using that port"),
                "\(output)")

        let health = try await HTTPTestRequest("GET", "/healthz").send(port: port)
        #expect(health.status == 200)
        first.signal(SIGTERM)
        #expect(await first.waitForExit() == 0, "\(first.text)")
        // The lock goes with the process: a new server starts on the same database.
        let third = try ChildProcess(
            ChildProcess.heraldExecutable, ["serve", "--config", config, "--rules", directory.path + "/rules"],
            directory: directory.path)
        #expect(try await third.waitForOutput(#"address=127\.0\.0\.1:(\d+)"#) != nil, "\(third.text)")
        third.signal(SIGTERM)
        #expect(await third.waitForExit() == 0)
    }

    /// Numbers on the command line are range-checked where they are read: a poll interval of 1e300 once
    /// crashed the server converting it to a duration.
    @Test(arguments: ["1e300", "inf", "nan", "-1", "86401"])
    func anOutOfRangePollIntervalIsRefused(_ value: String) async throws {
        let directory = TemporaryDirectory()
        let config = directory.write("herald.yaml", RunningServer.configYAML(directory: directory.path))
        directory.write("rules/payments.yaml", paymentsRules)
        let herald = try ChildProcess(
            ChildProcess.heraldExecutable,
            ["serve", "--config", config, "--rules", directory.path + "/rules", "--rules-poll-interval=\(value)"],
            directory: directory.path)
        let (status, output) = await herald.result(within: .seconds(60))
        #expect(status != 0 && status < 128, "\(status): \(output)")
        #expect(output.contains("--rules-poll-interval must be 0 to 86400 seconds"), "\(output)")
    }
}

/// Event ids that got a 200, shared by the client tasks.
private final class Acknowledged: Sendable {
    let ids = Mutex<[String]>([])
}
