import ArgumentParser
import Foundation
import HeraldChat
import HeraldConfig
import HeraldCore
import HeraldDelivery
import HeraldHTTP
import HeraldRules
import HeraldServer
import HeraldStore
import Hummingbird
import Logging

@main
struct Herald: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "herald",
        abstract: "Routes error events to chat through alert rules.",
        subcommands: [
            Serve.self, Rules.self, Explain.self, Issues.self, Deliveries.self, TestConnection.self, NotifyTest.self,
        ])
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Accept events over HTTP, group them into issues, and run the rules on each.")

    @OptionGroup var options: ConfigOptions

    @Option(help: "The rules directory; reloaded on SIGHUP, on any change, and on POST /-/reload.")
    var rules = "rules"

    @Option(help: "Seconds between checks of the rules directory for changes; 0 turns the checks off.")
    var rulesPollInterval: Double = 1

    @Option(help: "Log level: trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    func validate() throws {
        guard rulesPollInterval >= 0, rulesPollInterval.isFinite else {
            throw ValidationError("--rules-poll-interval must be 0 or more seconds")
        }
    }

    func run() async throws {
        // Until the reloader listens for it, a SIGHUP (whose default is to end the process) is ignored.
        signal(SIGHUP, SIG_IGN)
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "herald")
        let config: Config
        do {
            config = try ConfigLoader().load(path: options.config)
        } catch {
            printError(error.description)
            throw ExitCode(1)
        }
        let server: HeraldServer
        do {
            let poll: Duration? = rulesPollInterval > 0 ? .milliseconds(Int64(rulesPollInterval * 1_000)) : nil
            server = try HeraldServer(
                config: config, options: ServerOptions(rulesDirectory: rules, rulesPollInterval: poll, logger: logger))
        } catch let diagnostics as Diagnostics {
            printError(diagnostics.description)
            printError("herald: the rules have errors; fix them and start again")
            throw ExitCode(1)
        }
        // SIGTERM and SIGINT stop the server gracefully: it stops accepting, finishes requests in flight,
        // commits what they sent, and exits 0.
        try await server.application().runService()
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// Options every command that reads the config shares.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "The config file.")
    var config = "herald.yaml"

    /// The config, or exit 1 with its errors.
    func load() throws -> Config {
        do {
            return try ConfigLoader().load(path: config)
        } catch {
            printError(error.description)
            throw ExitCode(1)
        }
    }
}

struct Rules: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check and import rule files.", subcommands: [Check.self, Import.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate the config and every rule file; print each problem as file:line:column.")

        @OptionGroup var options: ConfigOptions

        @Argument(help: "The rules directory.")
        var directory = "rules"

        func run() throws {
            let check = RuleCheck(
                configPath: options.config, rulesDirectory: directory,
                environment: ProcessInfo.processInfo.environment)
            switch check.run() {
            case .valid(_, let summary):
                print(summary)
            case .invalid(let diagnostics):
                printError(diagnostics.description)
                printError("\(diagnostics.all.count) error\(diagnostics.all.count == 1 ? "" : "s")")
                throw ExitCode(1)
            }
        }
    }

    struct Import: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Convert rules from another product into a Herald rule file.", subcommands: [Sentry.self])

        struct Sentry: ParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Convert Sentry issue alert rules (the JSON of Sentry's rules API) into YAML.")

            @Argument(help: "A JSON file with one rule or a list of rules.")
            var file: String

            @Option(help: "The Herald project slug, when the JSON does not name one.")
            var project: String?

            @Option(name: .customLong("workspace"), help: "Map a Sentry Slack workspace id to a Herald workspace, as ID=NAME. Repeatable.")
            var workspaces: [String] = []

            @Option(name: [.short, .long], help: "Where to write the YAML (default: standard output).")
            var output: String?

            func run() throws {
                var mapping: [String: String] = [:]
                for pair in workspaces {
                    let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                    guard parts.count == 2 else { throw ValidationError("--workspace takes ID=NAME, not '\(pair)'") }
                    mapping[parts[0]] = parts[1]
                }
                let data = try readFile(file)
                let importer = SentryRuleImporter(project: project, workspaces: mapping)
                let result: SentryRuleImporter.Result
                do {
                    result = try importer.convert(json: data)
                } catch {
                    printError("\(file): error: \(error)")
                    throw ExitCode(1)
                }
                for warning in result.warnings { printError("\(file): warning: \(warning)") }
                if let output {
                    try result.yaml.write(toFile: output, atomically: true, encoding: .utf8)
                    print("wrote \(result.ruleCount) rule\(result.ruleCount == 1 ? "" : "s") to \(output)")
                } else {
                    print(result.yaml, terminator: "")
                }
            }
        }
    }
}

struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show which rules an event matches, why the others do not, and where it would be sent.")

    @OptionGroup var options: ConfigOptions

    @Option(help: "The rules directory.")
    var rules = "rules"

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @Argument(help: "An event as JSON, with \"project\" and optionally \"issue\" (see docs/rules.md).")
    var input: String

    func run() throws {
        let check = RuleCheck(
            configPath: options.config, rulesDirectory: rules, environment: ProcessInfo.processInfo.environment)
        let ruleSet: RuleSet
        switch check.run() {
        case .valid(let loaded, _): ruleSet = loaded
        case .invalid(let diagnostics):
            printError(diagnostics.description)
            throw ExitCode(1)
        }
        let explainInput: ExplainInput
        do {
            explainInput = try ExplainInput(json: try readFile(input))
        } catch let error as ExplainInput.InvalidInput {
            printError("\(input): error: \(error)")
            throw ExitCode(1)
        }
        let explanation = RuleEngine(ruleSet: ruleSet).explain(explainInput.event, context: explainInput.context)
        print(json ? explanation.json : explanation.text)
    }
}

struct Deliveries: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List deliveries, newest first, from the database in the config (works while Herald runs).")

    @OptionGroup var options: ConfigOptions

    @Flag(help: "Only deliveries that failed for good or were given up.")
    var failed = false

    @Option(help: "Only this status: pending, retrying, delivered, failed or dead.")
    var status: String?

    @Option(help: "Only this issue, by id or short id (PAYMENTS-12).")
    var issue: String?

    @Option(help: "How many to show.")
    var limit = 50

    func run() async throws {
        let config = try options.load()
        var query = DeliveryQuery(limit: limit)
        if failed { query.statuses = [.failed, .dead] }
        if let status {
            guard let value = DeliveryStatus(rawValue: status) else {
                throw ValidationError("unknown status '\(status)'; expected pending, retrying, delivered, failed or dead")
            }
            query.statuses = [value]
        }
        guard FileManager.default.fileExists(atPath: config.storage.sqlite) else {
            printError("no database at \(config.storage.sqlite) yet: Herald has not run with this config")
            throw ExitCode(1)
        }
        let store = try Store(path: config.storage.sqlite)
        var shortIDs: [Int64: String] = [:]
        if let issue {
            guard let found = try await store.issue(issue) else {
                printError("no issue '\(issue)'")
                throw ExitCode(1)
            }
            query.issueID = found.id
        }
        let entries = try await store.deliveries(query)
        for id in Set(entries.map(\.issueID)) { shortIDs[id] = try await store.issue(String(id))?.shortID }
        let rows = entries.map { entry -> [String] in
            let destination = (entry.purpose == "alert" ? "" : entry.purpose + " ") + "\(entry.kind) \(entry.target)"
                + (entry.channel.map { " " + $0 } ?? "")
            var detail = entry.lastError ?? ""
            if entry.status == DeliveryStatus.pending.rawValue || entry.status == DeliveryStatus.retrying.rawValue {
                detail = "next attempt \(Timestamp.text(entry.nextAttemptAt))" + (detail.isEmpty ? "" : "; last error: " + detail)
            } else if let ref = entry.deliveredRef {
                detail = "posted to \(entry.deliveredChannel ?? "?") as \(ref)"
            }
            let issue = shortIDs[entry.issueID] ?? String(entry.issueID)
            return [
                String(entry.id), entry.status, String(entry.attempts), issue, destination,
                Timestamp.text(entry.updatedAt), detail,
            ]
        }
        guard !rows.isEmpty else {
            print("no deliveries match")
            return
        }
        print(table(header: ["ID", "STATUS", "TRIES", "ISSUE", "TO", "UPDATED", "DETAIL"], rows: rows))
    }
}

struct TestConnection: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test-connection",
        abstract: "Send a test message to a Slack workspace, Mattermost connector or webhook and print the exact answer.")

    @OptionGroup var options: ConfigOptions

    @Argument(help: "The workspace, connector or webhook, by its name in the config.")
    var target: String

    @Option(help: "The channel to post to (default: the target's fallback_channel).")
    var channel: String?

    @Option(help: "slack, mattermost or webhook, when several targets share the name.")
    var kind: String?

    func run() async throws {
        let config = try options.load()
        let http = HTTPClient(configuration: .init(totalTimeout: .seconds(config.delivery.requestTimeout)))
        defer { http.shutdown() }
        let report: ConnectionTest.Report
        do {
            report = try await ConnectionTest(config: config, http: http).run(target: target, kind: kind, channel: channel)
        } catch {
            printError("herald: \(error)")
            throw ExitCode(1)
        }
        for exchange in report.exchanges {
            print(exchange.request)
            if let status = exchange.status {
                print("HTTP \(status)")
                print(exchange.body)
            } else {
                print("no answer: \(exchange.error ?? "unknown error")")
            }
        }
        print(report.succeeded ? "ok: \(report.kind) \(report.target) accepted the test message"
                               : "failed: \(report.kind) \(report.target) did not accept the test message")
        if !report.succeeded { throw ExitCode(1) }
    }
}

struct NotifyTest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notify-test",
        abstract: "Send a rule's real message, for a sample or given event, to every place the rule names.")

    @OptionGroup var options: ConfigOptions

    @Option(help: "The rules directory.")
    var rules = "rules"

    @Option(help: "The rule, by name.")
    var rule: String

    @Option(help: "The project, when several projects have a rule of that name.")
    var project: String?

    @Option(help: "An event as JSON (Sentry's or Herald's format); default: a sample that fills the rule's tags.")
    var event: String?

    func run() async throws {
        let config = try options.load()
        let check = RuleCheck(configPath: options.config, rulesDirectory: rules, environment: ProcessInfo.processInfo.environment)
        let ruleSet: RuleSet
        switch check.run() {
        case .valid(let loaded, _): ruleSet = loaded
        case .invalid(let diagnostics):
            printError(diagnostics.description)
            throw ExitCode(1)
        }
        let matching = ruleSet.rules.filter { $0.name == rule && (project == nil || $0.project == project) }
        guard let found = matching.first else {
            printError("no rule named '\(rule)'\(project.map { " in project \($0)" } ?? "")")
            throw ExitCode(1)
        }
        guard matching.count == 1 else {
            printError("projects \(matching.map(\.project).joined(separator: ", ")) each have a rule '\(rule)'; add --project")
            throw ExitCode(1)
        }
        var sample = HeraldDelivery.NotifyTest.sampleEvent(for: found)
        if let event {
            do {
                sample = try JSONDecoder().decode(Event.self, from: try readFile(event))
            } catch {
                printError("\(event): error: not an event: \(error)")
                throw ExitCode(1)
            }
        }
        let store = try Store(path: config.storage.sqlite)
        let http = HTTPClient(configuration: .init(totalTimeout: .seconds(config.delivery.requestTimeout)))
        defer { http.shutdown() }
        let courier = Courier(config: config, http: http, signer: ButtonSigner(key: try store.callbackKey()))
        var failures = 0
        for result in await HeraldDelivery.NotifyTest(courier: courier).send(rule: found, event: sample) {
            let place = "\(result.delivery.kind.rawValue) \(result.delivery.target)\(result.delivery.channel.map { " " + $0 } ?? "")"
            switch result.outcome {
            case .delivered(let handle, _, _):
                print("\(place): sent\(handle.map { " (channel \($0.channelID), message \($0.ref))" } ?? "")")
            case .failed(let failure, _):
                failures += 1
                print("\(place): failed: \(failure)")
            }
        }
        if failures > 0 { throw ExitCode(1) }
    }
}

struct Issues: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Act on an issue as chat buttons do: the change is recorded and every chat message of the issue is updated.",
        subcommands: [Resolve.self, Unresolve.self, Ignore.self, Assign.self, Ack.self])

    /// What every action takes: the issue and who acts.
    struct Target: ParsableArguments {
        @OptionGroup var options: ConfigOptions

        @Argument(help: "The issue, by id or short id (PAYMENTS-12).")
        var issue: String

        @Option(help: "The Herald user acting, by email (default: the system user, as an admin).")
        var by: String?

        /// Carries out the action and prints what happened; a running `herald serve` sends the message updates.
        func perform(_ action: IssueAction) async throws {
            let config = try options.load()
            guard FileManager.default.fileExists(atPath: config.storage.sqlite) else {
                printError("no database at \(config.storage.sqlite) yet: Herald has not run with this config")
                throw ExitCode(1)
            }
            let store = try Store(path: config.storage.sqlite)
            guard let found = try await store.issue(issue) else {
                printError("no issue '\(issue)'")
                throw ExitCode(1)
            }
            var user: Config.User?
            if let by {
                guard let named = config.user(email: by) else {
                    printError("\(by) is not a user in \(options.config)")
                    throw ExitCode(1)
                }
                user = named
            }
            let name = user?.name ?? ProcessInfo.processInfo.environment["USER"] ?? "an admin"
            let actor = Actor(email: user?.email, name: name, surface: "the command line")
            do {
                switch try await IssueActions(store: store, config: config).perform(action, on: found.id, actor: actor, user: user) {
                case .changed(_, let record): print("\(found.shortID): \(record.summary)")
                case .unchanged(let issue): print("\(found.shortID): already \(issue.stateDescription); nothing changed")
                case .duplicate: print("\(found.shortID): already done")
                }
            } catch let refusal as IssueActions.Refusal {
                printError("herald: \(refusal)")
                throw ExitCode(1)
            }
        }
    }

    struct Resolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resolve an issue.")
        @OptionGroup var target: Target
        @Flag(help: "Resolve in the next release: only an event from a newer release regresses it.")
        var nextRelease = false
        func run() async throws { try await target.perform(nextRelease ? .resolveInNextRelease : .resolve) }
    }

    struct Unresolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Mark an issue unresolved (also ends an ignore).")
        @OptionGroup var target: Target
        func run() async throws { try await target.perform(.unresolve) }
    }

    struct Ignore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Ignore an issue for a while, for some events, or forever.")
        @OptionGroup var target: Target
        @Option(name: .customLong("for"), help: "How long: 30m, 2h, 24h, or seconds.")
        var duration: String?
        @Option(help: "Until this many more events.")
        var events: Int?
        @Flag(help: "Forever.")
        var forever = false

        func validate() throws {
            guard [duration != nil, events != nil, forever].filter({ $0 }).count == 1 else {
                throw ValidationError("give exactly one of --for, --events and --forever")
            }
            if let duration, Self.seconds(duration) == nil {
                throw ValidationError("--for takes 30m, 2h, 24h or a number of seconds, not '\(duration)'")
            }
            if let events, events < 1 { throw ValidationError("--events must be 1 or more") }
        }

        static func seconds(_ text: String) -> Int? {
            let units: [Character: Int] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400]
            if let unit = text.last.flatMap({ units[$0] }), let count = Int(text.dropLast()), count > 0 { return count * unit }
            return Int(text).flatMap { $0 > 0 ? $0 : nil }
        }

        func run() async throws {
            let choice: IssueAction.IgnoreChoice = if let duration {
                .duration(seconds: Self.seconds(duration)!)
            } else if let events {
                .moreEvents(events)
            } else {
                .forever
            }
            try await target.perform(.ignore(choice))
        }
    }

    struct Assign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Assign an issue to a Herald user, or to nobody.")
        @OptionGroup var target: Target
        @Option(help: "The assignee's email.")
        var to: String?
        @Flag(help: "Remove the assignee.")
        var nobody = false

        func validate() throws {
            guard (to != nil) != nobody else { throw ValidationError("give --to EMAIL or --nobody") }
        }

        func run() async throws { try await target.perform(to.map { .assign(email: $0) } ?? .unassign) }
    }

    struct Ack: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Acknowledge an issue: say you are on it.")
        @OptionGroup var target: Target
        func run() async throws { try await target.perform(.acknowledge) }
    }
}

/// Text columns padded to their widest cell.
func table(header: [String], rows: [[String]]) -> String {
    let all = [header] + rows
    let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
    return all.map { row in
        row.enumerated().map { column, cell in
            column == row.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
        }.joined(separator: "  ")
    }.joined(separator: "\n")
}

func readFile(_ path: String) throws -> Data {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw ValidationError("cannot read \(path)")
    }
    return data
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
