import HeraldConfig

/// `herald rules check`: loads the config and every rule file, and says what is wrong or that all is well.
public struct RuleCheck: Sendable {
    public var configPath: String
    public var rulesDirectory: String
    public var environment: [String: String]

    public init(configPath: String, rulesDirectory: String, environment: [String: String]) {
        self.configPath = configPath
        self.rulesDirectory = rulesDirectory
        self.environment = environment
    }

    public enum Outcome: Sendable {
        case valid(RuleSet, summary: String)
        case invalid(Diagnostics)
    }

    public func run() -> Outcome {
        let config: Config
        do {
            config = try ConfigLoader(environment: environment).load(path: configPath)
        } catch {
            return .invalid(error)
        }
        let scrubbing = config.scrubbing.patternProblems
        do {
            let ruleSet = try RuleLoader(config: config).load(directory: rulesDirectory)
            guard scrubbing.isEmpty else { return .invalid(Diagnostics(scrubbing)) }
            return .valid(ruleSet, summary: Self.summary(of: ruleSet))
        } catch {
            return .invalid(Diagnostics(scrubbing + error.all))
        }
    }

    public static func summary(of ruleSet: RuleSet) -> String {
        let disabled = ruleSet.rules.filter { !$0.enabled }.count
        return "ok: \(plural(ruleSet.rules.count, "rule"))\(disabled > 0 ? " (\(disabled) disabled)" : "") for "
            + "\(plural(ruleSet.projects.count, "project")) in \(plural(ruleSet.files.count, "file")), "
            + "version \(ruleSet.version)"
    }

    private static func plural(_ count: Int, _ noun: String) -> String { "\(count) \(noun)\(count == 1 ? "" : "s")" }
}
