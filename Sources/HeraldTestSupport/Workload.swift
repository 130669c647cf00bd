import Foundation
import HeraldConfig
import HeraldCore
import HeraldRules

/// A deterministic random number generator (SplitMix64), so that generated workloads repeat exactly.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// An event with the facts it is evaluated with.
public struct EvaluationCase: Sendable {
    public var event: Event
    public var project: String
    public var issue: IssueFacts
    public var now: Date
    public var latestRelease: String?
    public var counts: FixedCounts

    public var context: EvaluationContext {
        EvaluationContext(project: project, issue: issue, now: now, latestRelease: latestRelease, counts: counts)
    }
}

/// Generated rule sets and event streams for the differential test and the benchmarks.
///
/// `realistic` mirrors what admins write (mostly tag equality, some levels, regexes, substring tests and
/// nested any-groups); `adversarial` draws every trigger, filter and operator from tiny value domains with
/// mixed letter case, so that matches, misses and edge cases all occur often.
public struct Workload {
    public enum Style: Sendable { case realistic, adversarial }

    /// How the generated events' issues are distributed over states.
    public enum IssueMix: Sendable {
        /// Every state equally often: the adversarial default.
        case uniform
        /// As a production stream looks: most events land on ongoing issues (90%), a few open new issues (6%)
        /// or regress (3%) or reappear (1%).
        case production
        /// Every event opens a new issue: the worst case for rules that fire on `first_seen`.
        case allNew
    }

    public let style: Style
    public let projectCount: Int
    public let issueMix: IssueMix
    private var random: SeededGenerator
    private let location = SourceLocation(file: "generated.yaml", line: 1, column: 1)

    public init(style: Style, projects: Int, seed: UInt64, issueMix: IssueMix? = nil) {
        self.style = style
        self.projectCount = projects
        self.issueMix = issueMix ?? (style == .realistic ? .production : .uniform)
        self.random = SeededGenerator(seed: seed)
    }

    public static func project(_ index: Int) -> String { "project-\(index)" }

    // MARK: Vocabulary

    private static let regions = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-south-1"]
    private static let tiers = ["free", "pro", "enterprise"]
    private static let services = (0..<50).map { "svc-\($0)" }
    private static let teams = (0..<20).map { "team-\($0)" }
    private static let browsers = ["chrome", "firefox", "safari", "edge"]
    private static let exceptionTypes = [
        "TimeoutError", "DeadlineExceeded", "KeyError", "ValueError", "ConnectionResetError", "ChunkLoadError",
    ]
    private static let urls = [
        "https://shop.example.com/checkout", "https://shop.example.com/cart", "https://api.example.com/orders/42",
        "https://shop.example.com/login",
    ]
    private static let messages = [
        "Timeout after 30s talking to db-3", "User 1234 not found", "Payment declined for order 981",
        "Connection reset by peer", "Unexpected token < in JSON at position 0",
    ]

    private static let adversarialValues = ["v0", "V1", "v2", "x-v1", "v1-y", "10", "250", ""]
    private static let adversarialTagKeys = ["k0", "K1", "k2"]
    private static let adversarialAttributes: [EventAttribute] = [
        .message, .exceptionType, .exceptionValue, .httpURL, .userEmail, .httpStatusCode, .stacktraceModule,
        .extra(path: "order.id"), .environment, .errorHandled, .errorUnhandled, .type,
    ]
    private static let adversarialPatterns = ["^v[0-2]$", "(?i)v1", "\\d+", "^$", "x-", "ü"]

    private mutating func pick<T>(_ items: [T]) -> T { items.randomElement(using: &random)! }
    private mutating func chance(_ probability: Double) -> Bool { Double.random(in: 0..<1, using: &random) < probability }
    private mutating func number(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &random) }

    // MARK: Rules

    public mutating func ruleSet(count: Int) -> RuleSet {
        var rules: [Rule] = []
        for index in 0..<count {
            let project = Self.project(number(0...projectCount - 1))
            rules.append(style == .realistic
                ? realisticRule(index: index, project: project) : adversarialRule(index: index, project: project))
        }
        return RuleSet(rules: rules, files: ["generated.yaml"], version: "generated")
    }

    private mutating func realisticRule(index: Int, project: String) -> Rule {
        var filters: [Condition<Filter>] = []
        let shape = number(0...99)
        switch shape {
        case 0..<55:
            filters.append(.leaf(.tag(key: "service", ValueMatch(.eq, .text(pick(Self.services))))))
            if chance(0.5) { filters.append(.leaf(.level(.gte, pick([.warning, .error])))) }
        case 55..<70:
            let teams = (0..<number(2...3)).map { _ in pick(Self.teams) }
            filters.append(.leaf(.tag(key: "team", ValueMatch(.in, .list(teams)))))
            filters.append(.leaf(.level(.gte, .error)))
        case 70..<80:
            filters.append(.leaf(.level(.gte, pick([.error, .fatal]))))
        case 80..<88:
            let pattern = try! Pattern(pick(["^(Timeout|Deadline)", "Reset", "^(Key|Value)Error$"]))
            filters.append(.leaf(.attribute(.exceptionType, ValueMatch(.matches, .pattern(pattern)))))
        case 88..<95:
            filters.append(.leaf(.attribute(.httpURL, ValueMatch(.contains, .text(pick(["/checkout", "/cart"]))))))
            filters.append(.leaf(.tag(key: "region", ValueMatch(.eq, .text(pick(Self.regions))))))
        default:
            filters.append(.any([
                .leaf(.tag(key: "region", ValueMatch(.in, .list([pick(Self.regions), pick(Self.regions)])))),
                .leaf(.attribute(.httpURL, ValueMatch(.contains, .text("/checkout")))),
            ]))
            filters.append(.leaf(.tag(key: "customer_tier", ValueMatch(.ne, .text("free")))))
        }
        let triggers: Condition<Trigger>
        switch number(0...99) {
        case 0..<40: triggers = .any([.leaf(.firstSeen)])
        case 40..<60: triggers = .any([.leaf(.firstSeen), .leaf(.regression)])
        case 60..<75: triggers = .any([.leaf(.everyEvent)])
        case 75..<90: triggers = .any([.leaf(.firstSeen), .leaf(.frequency(count: 100, interval: .oneHour))])
        default: triggers = .any([.leaf(.uniqueUsers(count: 20, interval: .oneHour))])
        }
        let channel = try! ChannelTemplate(parsing: "#alerts-\(number(0...299))")
        return Rule(
            project: project, name: "rule \(index)", environment: chance(0.5) ? "production" : nil,
            triggers: triggers, filters: .all(filters),
            actions: [.slack(ChatAction(target: pick(["acme", "globex"]), channels: [channel], tags: ["release"]))],
            location: location)
    }

    private mutating func adversarialRule(index: Int, project: String) -> Rule {
        let filters: Condition<Filter> = chance(0.15) ? .all([]) : .all((0..<number(1...3)).map { _ in filterCondition(depth: 0) })
        let triggers: Condition<Trigger> = triggerCondition(depth: 0)
        let channel = try! ChannelTemplate(parsing: pick(["#a", "#b", "#team-{{ tags.k0 }}"]))
        return Rule(
            project: project, name: "rule \(index)", enabled: chance(0.9),
            environment: chance(0.3) ? pick(["production", "staging"]) : nil,
            triggers: triggers, filters: filters,
            actions: [.slack(ChatAction(target: "acme", channels: [channel], tags: [pick(["k0", "k2"])]))],
            location: location)
    }

    /// An all/any/none group of members, drawn at random.
    private mutating func group<Leaf>(_ members: [Condition<Leaf>]) -> Condition<Leaf> {
        switch number(0...2) {
        case 0: .all(members)
        case 1: .any(members)
        default: .none(members)
        }
    }

    private mutating func filterCondition(depth: Int) -> Condition<Filter> {
        if depth < 2 && chance(0.25) {
            return group((0..<number(0...3)).map { _ in filterCondition(depth: depth + 1) })
        }
        switch number(0...9) {
        case 0: return .leaf(.level(pick(Comparison.allCases), pick(Level.allCases)))
        case 1...3: return .leaf(.tag(key: pick(Self.adversarialTagKeys), valueMatch()))
        case 4...6: return .leaf(.attribute(pick(Self.adversarialAttributes), valueMatch()))
        case 7: return .leaf(.age(pick(AgeComparison.allCases), TimeSpan(seconds: pick([60, 3_600, 86_400]))))
        case 8: return .leaf(.occurrences(atLeast: number(0...20)))
        default:
            return .leaf(pick([.assignedTo(.unassigned), .assignedTo(.user(email: "Alice@example.com")),
                               .assignedTo(.team("backend")), .latestRelease]))
        }
    }

    private mutating func valueMatch() -> ValueMatch {
        let op = pick(MatchOperator.allCases)
        switch op {
        case .isSet, .notSet: return ValueMatch(op, .none)
        case .in, .notIn: return ValueMatch(op, .list((0..<number(1...3)).map { _ in pick(Self.adversarialValues) }))
        case .matches, .notMatches: return ValueMatch(op, .pattern(try! Pattern(pick(Self.adversarialPatterns))))
        case .gt, .gte, .lt, .lte: return ValueMatch(op, .number(Double(pick([0, 10, 100, 250, 500]))))
        default: return ValueMatch(op, .text(pick(Self.adversarialValues.filter { !$0.isEmpty })))
        }
    }

    private mutating func triggerCondition(depth: Int) -> Condition<Trigger> {
        if depth < 2 && chance(0.3) {
            return group((0..<number(1...3)).map { _ in triggerCondition(depth: depth + 1) })
        }
        switch number(0...6) {
        case 0: return .leaf(.firstSeen)
        case 1: return .leaf(.regression)
        case 2: return .leaf(.reappeared)
        case 3: return .leaf(.everyEvent)
        case 4: return .leaf(.frequency(count: pick([0, 5, 100]), interval: pick(Interval.allCases)))
        case 5: return .leaf(.uniqueUsers(count: pick([0, 3, 50]), interval: pick([.oneMinute, .oneHour])))
        default:
            return .leaf(.frequencyChange(percent: pick([0, 50, 200]), interval: .oneHour, comparedTo: pick([.oneDay, .oneWeek])))
        }
    }

    // MARK: Events

    public mutating func cases(count: Int) -> [EvaluationCase] {
        (0..<count).map { _ in style == .realistic ? realisticCase() : adversarialCase() }
    }

    private mutating func realisticCase() -> EvaluationCase {
        let exceptionType = pick(Self.exceptionTypes)
        let event = Event(
            platform: "python", level: pick([.info, .warning, .error, .error, .error, .fatal]),
            release: pick(["1.4.0", "1.4.1", "1.5.0"]), environment: pick(["production", "production", "staging"]),
            message: pick(Self.messages),
            exceptions: [ExceptionInfo(type: exceptionType, value: pick(Self.messages), module: "app.handlers",
                                       mechanism: .init(type: "generic", handled: chance(0.5)),
                                       frames: [.init(filename: "app/handlers.py", module: "app.handlers",
                                                      function: "handle", lineno: number(1...500), inApp: true)])],
            tags: [
                .init("service", pick(Self.services)), .init("team", pick(Self.teams)),
                .init("region", pick(Self.regions)), .init("customer_tier", pick(Self.tiers)),
                .init("browser", pick(Self.browsers)),
            ],
            user: .init(id: String(number(1...10_000)), email: "user\(number(1...500))@example.com"),
            request: .init(url: pick(Self.urls), method: pick(["GET", "POST"])))
        return evaluationCase(for: event, project: Self.project(number(0...projectCount - 1)))
    }

    private mutating func adversarialCase() -> EvaluationCase {
        func someValue(_ generator: inout Workload) -> String {
            let value = generator.pick(Self.adversarialValues)
            return generator.chance(0.3) ? value.uppercased() : value
        }
        var tags: [Event.Tag] = []
        for _ in 0..<number(0...4) { tags.append(.init(pick(Self.adversarialTagKeys + ["K0", "k3"]), someValue(&self))) }
        let exceptions = (0..<number(0...2)).map { _ in
            ExceptionInfo(
                type: chance(0.8) ? someValue(&self) : nil, value: chance(0.5) ? someValue(&self) : nil,
                mechanism: chance(0.6) ? .init(handled: chance(0.5)) : nil,
                frames: (0..<number(0...2)).map { _ in .init(module: someValue(&self)) })
        }
        var extra: [String: JSONValue] = [:]
        if chance(0.5) { extra["order"] = .object(["id": chance(0.5) ? .string(someValue(&self)) : .number(250)]) }
        var contexts: [String: JSONValue] = [:]
        if chance(0.5) { contexts["response"] = .object(["status_code": .number(Double(pick([200, 404, 500])))]) }
        let event = Event(
            level: pick(Level.allCases), release: chance(0.7) ? pick(["1.0", "1.1"]) : nil,
            environment: chance(0.8) ? pick(["production", "staging"]) : nil,
            message: chance(0.8) ? someValue(&self) : nil, exceptions: exceptions, tags: tags,
            user: chance(0.6) ? .init(id: "u1", email: chance(0.5) ? someValue(&self) : nil) : nil,
            request: chance(0.6) ? .init(url: someValue(&self)) : nil, extra: extra, contexts: contexts)
        return evaluationCase(for: event, project: Self.project(number(0...projectCount - 1)))
    }

    private mutating func evaluationCase(for event: Event, project: String) -> EvaluationCase {
        let now = Date(timeIntervalSince1970: 1_790_000_000)
        var counts: [FixedCounts.Key: Int] = [:]
        for window in Interval.allCases {
            counts[.init(.events, window)] = pick([0, 1, 6, 101, 400])
            counts[.init(.users, window)] = pick([0, 2, 4, 60])
            for shift in Interval.allCases { counts[.init(.events, window, endingAgo: shift)] = pick([0, 1, 50, 400]) }
        }
        let state: IssueState
        switch issueMix {
        case .uniform: state = pick(IssueState.allCases)
        case .allNew: state = .new
        case .production:
            let roll = number(0...99)
            state = roll < 90 ? .ongoing : roll < 96 ? .new : roll < 99 ? .regression : .reappeared
        }
        let issue = IssueFacts(
            state: state, timesSeen: number(1...30),
            firstSeen: now.addingTimeInterval(-Double(pick([30, 600, 7_200, 200_000]))),
            assignee: pick([nil, .user(email: "alice@EXAMPLE.com"), .team("Backend"), .user(email: "bob@example.com")]))
        return EvaluationCase(
            event: event, project: project, issue: issue, now: now, latestRelease: pick([nil, "1.0", "1.1", "1.5.0"]),
            counts: FixedCounts(counts))
    }
}
