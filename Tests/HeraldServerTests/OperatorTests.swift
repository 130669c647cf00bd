import Foundation
import HeraldConfig
import HeraldTestSupport
import Testing

/// What an operator meets first: the version, where Herald reads and writes, its log format, and the warnings
/// about the example config's secrets.
@Suite struct OperatorTests {
    static let rules = "project: payments\nrules:\n  - name: All\n    when: [every_event]\n    then: [{webhook: {name: pager}}]\n"

    @Test func versionPrintsAndExitsZero() async throws {
        let (status, output) = await (try ChildProcess(ChildProcess.heraldExecutable, ["--version"])).result(within: .seconds(60))
        #expect(status == 0)
        #expect(output.trimmingCharacters(in: .whitespacesAndNewlines).range(of: #"^\d+\.\d+\.\d+$"#, options: .regularExpression) != nil, "\(output)")
    }

    /// Relative paths in the config are the config file's, not the working directory's; the rules default to
    /// `rules/` beside it; and the commands say which absolute paths they used.
    @Test func pathsAreTakenRelativeToTheConfigFile() async throws {
        let directory = TemporaryDirectory()
        let yaml = RunningServer.configYAML(directory: directory.path)
            .replacingOccurrences(of: "sqlite: \(directory.path)/data/herald.sqlite", with: "sqlite: state/herald.sqlite")
        directory.write("etc/herald.yaml", yaml)
        directory.write("etc/rules/payments.yaml", Self.rules)
        let config = try ConfigLoader(environment: [:]).load(path: directory.path + "/etc/herald.yaml")
        let etc = URL(fileURLWithPath: directory.path + "/etc").standardizedFileURL.path
        #expect(config.storage.sqlite == etc + "/state/herald.sqlite")
        #expect(config.rulesDirectory(nil) == etc + "/rules")

        // Started from another directory, by a relative config path.
        let check = try ChildProcess(ChildProcess.heraldExecutable, ["rules", "check", "--config", "etc/herald.yaml"], directory: directory.path)
        let (status, output) = await check.result(within: .seconds(60))
        #expect(status == 0, "\(output)")
        #expect(output.contains("(config \(etc)/herald.yaml, rules \(etc)/rules)"), "\(output)")

        let serve = try ChildProcess(ChildProcess.heraldExecutable, ["serve", "--config", "etc/herald.yaml"], directory: directory.path)
        let database = try await serve.waitForOutput(#"database=(\S+)"#)
        #expect(database == etc + "/state/herald.sqlite", "\(serve.text)")
        #expect(serve.text.contains("rules_directory=\(etc)/rules"), "\(serve.text)")
        #expect(FileManager.default.fileExists(atPath: etc + "/state/herald.sqlite"))
        serve.signal(SIGTERM)
        #expect(await serve.waitForExit() == 0)
    }

    /// `--log-format json`: every line a JSON object with time, level, message; and the example's secrets are
    /// named at start.
    @Test func jsonLogsAndDevelopmentSecretWarnings() async throws {
        let directory = TemporaryDirectory()
        let yaml = RunningServer.configYAML(directory: directory.path)
            .replacingOccurrences(of: "admin_token: \(RunningServer.adminToken)", with: "admin_token: dev-admin-token")
        let config = directory.write("herald.yaml", yaml)
        directory.write("rules/payments.yaml", Self.rules)
        let serve = try ChildProcess(ChildProcess.heraldExecutable, ["serve", "--config", config, "--log-format", "json"], directory: directory.path)
        _ = try await serve.waitForOutput(#""message":"herald is serving""#)
        serve.signal(SIGTERM)
        #expect(await serve.waitForExit() == 0)
        let lines = serve.text.split(separator: "\n").filter { !$0.isEmpty }
        #expect(lines.count >= 3)
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["time"] is String && object?["level"] is String && object?["message"] is String, "\(line)")
        }
        let warning = lines.first { $0.contains("admin_token is the example config's development value") }
        #expect(warning?.contains(#""level":"warning""#) == true, "\(serve.text)")
    }

    /// `herald issues list|show`: the admin API's data on the command line, while the server runs.
    @Test func issuesListAndShow() async throws {
        let server = try await RunningServer(rules: ["payments.yaml": Self.rules])
        #expect(try await server.postEvent(#"{"message": "Card declined", "level": "error"}"#).status == 200)
        #expect(try await server.postEvent(#"{"message": "Slow checkout", "level": "warning"}"#).status == 200)
        _ = try await server.server.actions.perform(
            .acknowledge, on: 1, actor: .init(email: "bob@example.com", name: "Bob", surface: "test"),
            user: server.server.config.user(email: "bob@example.com"))
        let config = server.directory.path + "/herald.yaml"
        func herald(_ arguments: [String]) async throws -> (Int32, String) {
            await (try ChildProcess(ChildProcess.heraldExecutable, arguments)).result(within: .seconds(60))
        }
        let (listed, list) = try await herald(["issues", "list", "--config", config])
        #expect(listed == 0, "\(list)")
        #expect(list.contains("PAYMENTS-1") && list.contains("PAYMENTS-2") && list.contains("Card declined"), "\(list)")
        let (filtered, warnings) = try await herald(["issues", "list", "--config", config, "--status", "resolved"])
        #expect(filtered == 0 && warnings.contains("no issues match"), "\(warnings)")
        let (shown, show) = try await herald(["issues", "show", "--config", config, "payments-1"])
        #expect(shown == 0, "\(show)")
        #expect(show.contains("PAYMENTS-1  Card declined") && show.contains("All  (new"), "\(show)")
        #expect(show.contains("Acknowledged by Bob via test"), "\(show)")
        #expect(show.contains("acknowledged by Bob at "), "\(show)")
        // The acknowledgement stands on the issue, in the admin API too, until someone acts otherwise.
        let acknowledged = try await server.admin("/api/v1/issues/1").json["acknowledged"] as? [String: Any]
        #expect(acknowledged?["by"] as? String == "Bob" && acknowledged?["email"] as? String == "bob@example.com")
        _ = try await server.server.actions.perform(.resolve, on: 1, actor: .init(email: nil, name: "an admin", surface: "test"), user: nil)
        #expect(try await server.admin("/api/v1/issues/1").json["acknowledged"] == nil)
        let (bad, usage) = try await herald(["issues", "list", "--config", config, "--status", "open"])
        #expect(bad != 0 && usage.contains("unknown status 'open'"), "\(usage)")
        #expect(usage.contains("Usage: herald issues list"), "\(usage)")
        try await server.stop()
    }

    /// The README's first steps on the example config, as a newcomer runs them: the event fires the example
    /// rule, its delivery waits in the outbox because the example pauses delivery, and nothing is retried.
    @Test func theReadmesFirstEventOnTheExampleConfig() async throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardizedFileURL.path
        let directory = TemporaryDirectory()
        directory.write("herald.yaml", try String(contentsOfFile: repository + "/herald.yaml", encoding: .utf8)
            .replacingOccurrences(of: "port: 8080", with: "port: 0"))
        for file in ["payments.yaml", "web.yaml"] {
            directory.write("rules/" + file, try String(contentsOfFile: repository + "/rules/" + file, encoding: .utf8))
        }
        let serve = try ChildProcess(ChildProcess.heraldExecutable, ["serve"], directory: directory.path, environment: [:])
        let port = try #require(try await serve.waitForOutput(#"address=127\.0\.0\.1:(\d+)"#).flatMap { Int($0) }, "\(serve.text)")
        #expect(serve.text.contains("delivery is paused"))
        #expect(serve.text.contains("admin_token is the example config's development value"))
        let answer = try await HTTPTestRequest(
            "POST", "/api/v1/events", headers: [("Authorization", "Bearer payments-dev-key")],
            json: #"{"message": "Card declined for order 1234", "level": "error", "environment": "production"}"#
        ).send(port: port)
        #expect(answer.status == 200, "\(answer.text)")
        let (status, show) = await (try ChildProcess(ChildProcess.heraldExecutable, ["issues", "show", "PAYMENTS-1"], directory: directory.path))
            .result(within: .seconds(60))
        #expect(status == 0, "\(show)")
        #expect(show.contains("New payments issues  (new"), "\(show)")
        #expect(show.contains("alert webhook pager") && show.contains("pending"), "\(show)")
        serve.signal(SIGTERM)
        #expect(await serve.waitForExit() == 0)
        // Read after the server stopped: whatever it did while running is on disk. A dispatcher would have
        // read the row at once (the ingest writer rings it) and counted an attempt.
        let (_, deliveries) = await (try ChildProcess(ChildProcess.heraldExecutable, ["deliveries"], directory: directory.path))
            .result(within: .seconds(60))
        let row = deliveries.split(separator: "\n").first { $0.contains("webhook pager") } ?? ""
        #expect(row.contains("pending") && row.split(separator: " ", omittingEmptySubsequences: true).dropFirst(2).first == "0", "\(deliveries)")
        #expect(!serve.text.contains("retry"), "\(serve.text)")
        #expect(!serve.text.contains("events.example.com"), "\(serve.text)")
    }

    /// `herald explain` on the example event says where a channel taken from a tag really goes.
    @Test func explainNamesTheFallbackChannel() async throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..").standardizedFileURL.path
        let explain = try ChildProcess(
            ChildProcess.heraldExecutable, ["explain", "--config", repository + "/herald.yaml", repository + "/examples/event.json"])
        let (status, output) = await explain.result(within: .seconds(60))
        #expect(status == 0, "\(output)")
        #expect(output.contains("note: #team-checkout on slack globex comes from the event; if it does not exist, the message goes to #alerts (fallback_channel)"), "\(output)")
    }

    @Test func theExampleConfigsSecretsAreNamed() throws {
        let config = try ConfigLoader(environment: [:]).load(
            path: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../herald.yaml").path)
        #expect(config.developmentSecrets.contains("admin_token"))
        #expect(config.developmentSecrets.contains("slack.signing_secret"))
        let real = try ConfigLoader(environment: ["HERALD_ADMIN_TOKEN": "a-real-token", "SLACK_SIGNING_SECRET": "abc"]).load(
            path: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../herald.yaml").path)
        #expect(!real.developmentSecrets.contains("admin_token"))
        #expect(!real.developmentSecrets.contains("slack.signing_secret"))
    }
}
