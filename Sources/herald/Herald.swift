import ArgumentParser
import Foundation
import HeraldConfig
import HeraldRules
import HeraldServer
import Hummingbird
import Logging

@main
struct Herald: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "herald",
        abstract: "Routes error events to chat through alert rules.",
        subcommands: [Serve.self, Rules.self, Explain.self])
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

func readFile(_ path: String) throws -> Data {
    guard let data = FileManager.default.contents(atPath: path) else {
        throw ValidationError("cannot read \(path)")
    }
    return data
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
