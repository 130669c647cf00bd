import ArgumentParser
import Foundation
import HeraldConfig
import HeraldHTTP
import HeraldRules
import HeraldStore

/// Options every command that reads the config shares.
struct ConfigOptions: ParsableArguments {
    @Option(name: .long, help: "The config file.")
    var config = "herald.yaml"

    /// The config file's absolute path, as commands report it.
    var absoluteConfigPath: String { Config.absolute(config) }

    /// The config, or exit 1 with its errors.
    func load() throws -> Config {
        do {
            return try ConfigLoader().load(path: config)
        } catch {
            throw failure(error.description)
        }
    }

    /// The config and every rule file checked together; exit 1 with every problem found.
    func ruleSet(in directory: String) throws -> RuleSet {
        let check = RuleCheck(
            configPath: config, rulesDirectory: directory, environment: ProcessInfo.processInfo.environment)
        switch check.run() {
        case .valid(let loaded, _): return loaded
        case .invalid(let diagnostics): throw failure(diagnostics.description)
        }
    }

    /// The database a running Herald writes; exit 1 when Herald has not run with this config yet.
    func existingStore(_ config: Config) throws -> Store {
        guard FileManager.default.fileExists(atPath: config.storage.sqlite) else {
            throw failure("no database at \(config.storage.sqlite) yet: Herald has not run with this config")
        }
        return try Store(path: config.storage.sqlite)
    }
}

/// Options every command that reads the rules shares: the config and the rules directory.
struct RuleOptions: ParsableArguments {
    @OptionGroup var config: ConfigOptions

    @Option(help: "The rules directory (default: rules/ beside the config file).")
    var rules: String?

    /// The config and every rule file checked together; exit 1 with every problem found.
    func ruleSet() throws -> RuleSet { try config.ruleSet(in: try config.load().rulesDirectory(rules)) }
}

extension Config {
    /// The HTTP client delivery would use, with its request timeout.
    func httpClient() -> HTTPClient {
        HTTPClient(configuration: .init(totalTimeout: .seconds(delivery.requestTimeout)))
    }
}
