/// How severe an event is, ordered as Sentry orders it: debug < info < warning < error < fatal.
public enum Level: Int, Sendable, Hashable, Comparable, CaseIterable {
    case debug = 10
    case info = 20
    case warning = 30
    case error = 40
    case fatal = 50

    /// The canonical names, in severity order, as rule files spell them.
    public static let names: [String] = allCases.map(\.name)

    public var name: String {
        switch self {
        case .debug: "debug"
        case .info: "info"
        case .warning: "warning"
        case .error: "error"
        case .fatal: "fatal"
        }
    }

    /// Reads a canonical name (`error`), case-insensitively.
    public init?(name: String) {
        // Every stored issue and most events spell it in lowercase already; lowercasing allocates.
        if let level = Self.exactly(name) {
            self = level
        } else if let level = Self.exactly(name.lowercased()) {
            self = level
        } else {
            return nil
        }
    }

    /// Reads a level as SDKs send it: canonical names plus the aliases Python's logging and others use.
    public init?(sdkName: String) {
        if let level = Self.exactly(sdkName) {
            self = level
            return
        }
        switch sdkName.lowercased() {
        case "warn": self = .warning
        case "critical": self = .fatal
        case "log": self = .info
        default: self.init(name: sdkName)
        }
    }

    private static func exactly(_ name: String) -> Level? {
        switch name {
        case "debug": .debug
        case "info": .info
        case "warning": .warning
        case "error": .error
        case "fatal": .fatal
        default: nil
        }
    }

    public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }
}
