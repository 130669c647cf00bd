import ArgumentParser
import Foundation
import HeraldConfig
import HeraldRules

struct Rules: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check and import rule files.", subcommands: [Check.self, Import.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate the config and every rule file; print each problem as file:line:column.")

        @OptionGroup var options: ConfigOptions

        @Argument(help: "The rules directory (default: rules/ beside the config file).")
        var directory: String?

        func run() throws {
            // Where the config lives decides the default rules directory; a config that does not load is
            // reported by the check itself, with its location.
            let base = (try? ConfigLoader().load(path: options.config))?.baseDirectory
                ?? Config.absolute(URL(fileURLWithPath: options.config).deletingLastPathComponent().path)
            let rules = directory.map(Config.absolute) ?? Config.resolve("rules", against: base)
            let check = RuleCheck(
                configPath: options.config, rulesDirectory: rules, environment: ProcessInfo.processInfo.environment)
            switch check.run() {
            case .valid(_, let summary):
                print("\(summary) (config \(options.absoluteConfigPath), rules \(rules))")
            case .invalid(let diagnostics):
                printError(diagnostics.description)
                throw failure("\(diagnostics.all.count) error\(diagnostics.all.count == 1 ? "" : "s")")
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
                    throw failure("\(file): error: \(error)")
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
