import HeraldConfig

/// One alert rule of one project, as validated from a rule file.
///
/// Immutable and shared: an evaluation hands out the rules that matched, and a reference costs one retain
/// where a copy of every field would cost many. Two rules are equal when every field is.
public final class Rule: Sendable, Hashable {
    /// The project slug the rule belongs to.
    public let project: String
    /// Unique within the project.
    public let name: String
    public let enabled: Bool
    /// Who looks after the rule (an email or `team:name`); informational.
    public let owner: String?
    /// When set, only events from this environment are considered.
    public let environment: String?
    /// The `when` part: what must have happened to the issue.
    public let triggers: Condition<Trigger>
    /// The `if` part: what must hold of the event and issue; `.all([])` when the rule has none.
    public let filters: Condition<Filter>
    /// The least time between two firings of this rule for one issue.
    public let actionInterval: TimeSpan
    public let actions: [Action]
    /// Where the rule starts in its file.
    public let location: SourceLocation

    public static let defaultActionInterval = TimeSpan(seconds: 30 * 60)
    public static let actionIntervalRange = TimeSpan(seconds: 60)...TimeSpan(seconds: 30 * 86_400)

    public init(
        project: String,
        name: String,
        enabled: Bool = true,
        owner: String? = nil,
        environment: String? = nil,
        triggers: Condition<Trigger>,
        filters: Condition<Filter> = .all([]),
        actionInterval: TimeSpan = Rule.defaultActionInterval,
        actions: [Action],
        location: SourceLocation
    ) {
        self.project = project
        self.name = name
        self.enabled = enabled
        self.owner = owner
        self.environment = environment
        self.triggers = triggers
        self.filters = filters
        self.actionInterval = actionInterval
        self.actions = actions
        self.location = location
    }

    public static func == (lhs: Rule, rhs: Rule) -> Bool {
        lhs === rhs
            || (lhs.project == rhs.project && lhs.name == rhs.name && lhs.enabled == rhs.enabled
                && lhs.owner == rhs.owner && lhs.environment == rhs.environment && lhs.triggers == rhs.triggers
                && lhs.filters == rhs.filters && lhs.actionInterval == rhs.actionInterval
                && lhs.actions == rhs.actions && lhs.location == rhs.location)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(project)
        hasher.combine(name)
    }
}

/// Every rule Herald runs, validated together, with a version that changes whenever any rule file does.
public struct RuleSet: Sendable {
    public var rules: [Rule]
    /// The files read, in the order read.
    public var files: [String]
    /// A digest of the files' paths and contents, shown by the server so admins see which set is live.
    public var version: String

    public init(rules: [Rule], files: [String] = [], version: String = "") {
        self.rules = rules
        self.files = files
        self.version = version
    }

    public var projects: [String] {
        var seen = Set<String>()
        return rules.map(\.project).filter { seen.insert($0).inserted }
    }
}
