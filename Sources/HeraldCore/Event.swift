import Foundation

/// One error event as an application reported it: the fields Herald groups, stores and evaluates rules on.
///
/// The shape follows Sentry's event payload, so SDK events decode directly (see `Event+Decoding.swift`).
public struct Event: Sendable, Hashable {
    public var eventID: String?
    public var timestamp: Date?
    public var platform: String?
    public var level: Level
    public var logger: String?
    public var transaction: String?
    public var serverName: String?
    public var release: String?
    public var environment: String?
    public var message: String?
    /// The exception chain, innermost cause first as Sentry orders it.
    public var exceptions: [ExceptionInfo]
    /// Tags in the order they were sent; a key may repeat.
    public var tags: [Tag]
    public var user: User?
    public var request: Request?
    public var sdk: SDK?
    public var fingerprint: [String]?
    public var extra: [String: JSONValue]
    public var contexts: [String: JSONValue]

    public init(
        eventID: String? = nil,
        timestamp: Date? = nil,
        platform: String? = nil,
        level: Level = .error,
        logger: String? = nil,
        transaction: String? = nil,
        serverName: String? = nil,
        release: String? = nil,
        environment: String? = nil,
        message: String? = nil,
        exceptions: [ExceptionInfo] = [],
        tags: [Tag] = [],
        user: User? = nil,
        request: Request? = nil,
        sdk: SDK? = nil,
        fingerprint: [String]? = nil,
        extra: [String: JSONValue] = [:],
        contexts: [String: JSONValue] = [:]
    ) {
        self.eventID = eventID
        self.timestamp = timestamp
        self.platform = platform
        self.level = level
        self.logger = logger
        self.transaction = transaction
        self.serverName = serverName
        self.release = release
        self.environment = environment
        self.message = message
        self.exceptions = exceptions
        self.tags = tags
        self.user = user
        self.request = request
        self.sdk = sdk
        self.fingerprint = fingerprint
        self.extra = extra
        self.contexts = contexts
    }

    /// Sentry's event type: `error` when an exception is attached, `default` otherwise.
    public var type: String { exceptions.isEmpty ? "default" : "error" }

    /// The values of one tag key, matched case-insensitively as Sentry's tag filter does.
    public func tagValues(_ key: String) -> [String] {
        tags.compactMap { $0.key.equalsIgnoringCase(key) ? $0.value : nil }
    }

    public struct Tag: Sendable, Hashable {
        public var key: String
        public var value: String
        public init(_ key: String, _ value: String) {
            self.key = key
            self.value = value
        }
    }

    public struct User: Sendable, Hashable {
        public var id: String?
        public var email: String?
        public var username: String?
        public var ipAddress: String?
        public init(id: String? = nil, email: String? = nil, username: String? = nil, ipAddress: String? = nil) {
            self.id = id
            self.email = email
            self.username = username
            self.ipAddress = ipAddress
        }
    }

    public struct Request: Sendable, Hashable {
        public var url: String?
        public var method: String?
        public init(url: String? = nil, method: String? = nil) {
            self.url = url
            self.method = method
        }
    }

    public struct SDK: Sendable, Hashable {
        public var name: String?
        public var version: String?
        public init(name: String? = nil, version: String? = nil) {
            self.name = name
            self.version = version
        }
    }
}

/// One exception of an event's chain, with its stack trace.
public struct ExceptionInfo: Sendable, Hashable {
    public var type: String?
    public var value: String?
    public var module: String?
    public var mechanism: Mechanism?
    public var frames: [Frame]

    public init(
        type: String? = nil,
        value: String? = nil,
        module: String? = nil,
        mechanism: Mechanism? = nil,
        frames: [Frame] = []
    ) {
        self.type = type
        self.value = value
        self.module = module
        self.mechanism = mechanism
        self.frames = frames
    }

    public struct Mechanism: Sendable, Hashable {
        public var type: String?
        /// Whether the application caught the error; nil when the SDK did not say.
        public var handled: Bool?
        public init(type: String? = nil, handled: Bool? = nil) {
            self.type = type
            self.handled = handled
        }
    }

    public struct Frame: Sendable, Hashable {
        public var filename: String?
        public var absPath: String?
        public var module: String?
        public var function: String?
        public var package: String?
        public var lineno: Int?
        public var inApp: Bool?
        public var contextLine: String?

        public init(
            filename: String? = nil,
            absPath: String? = nil,
            module: String? = nil,
            function: String? = nil,
            package: String? = nil,
            lineno: Int? = nil,
            inApp: Bool? = nil,
            contextLine: String? = nil
        ) {
            self.filename = filename
            self.absPath = absPath
            self.module = module
            self.function = function
            self.package = package
            self.lineno = lineno
            self.inApp = inApp
            self.contextLine = contextLine
        }
    }
}
