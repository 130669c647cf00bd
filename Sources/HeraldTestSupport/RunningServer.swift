import Foundation
import HeraldConfig
import HeraldServer
import Hummingbird
import Logging
import ServiceLifecycle

/// A real Herald server on a free loopback port, with its SQLite file and rules in a temporary directory.
public final class RunningServer: Sendable {
    public let port: Int
    public let server: HeraldServer
    public let directory: TemporaryDirectory
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    public static let adminToken = "admin-secret"

    /// A config for tests: the payments (id 1, key `pk-1`) and web (id 2, key `wk-2`) projects, two Slack
    /// workspaces, a Mattermost connector, a webhook, and users of every role. `extra` is appended.
    public static func configYAML(directory: String, extra: String = "") -> String {
        """
        projects:
          - {id: 1, slug: payments, keys: [pk-1, pk-1b]}
          - {id: 2, slug: web, keys: [wk-2]}
        slack:
          signing_secret: signing
          workspaces:
            - {name: acme, token: xoxb-acme}
            - {name: globex, token: xoxb-globex, fallback_channel: "#alerts"}
        mattermost:
          - {name: ops, url: "https://mm.example.com", token: mm-token}
        webhooks:
          - {name: pager, url: "https://events.example.com/herald"}
        users:
          - {email: alice@example.com, name: Alice, role: admin}
        storage:
          sqlite: \(directory)/data/herald.sqlite
        admin_token: \(adminToken)
        server:
          port: 0
        \(extra)
        """
    }

    /// Starts a server on `configYAML` (default: `configYAML(directory:)`) with the given rule files.
    public init(
        rules: [String: String], configYAML: String? = nil, directory: TemporaryDirectory = TemporaryDirectory(),
        rulesPollInterval: Duration = .milliseconds(100), logLevel: Logger.Level = .warning
    ) async throws {
        self.directory = directory
        let configText = configYAML ?? Self.configYAML(directory: directory.path)
        let configPath = directory.write("herald.yaml", configText)
        for (name, text) in rules { directory.write("rules/" + name, text) }
        if rules.isEmpty {
            try FileManager.default.createDirectory(atPath: directory.path + "/rules", withIntermediateDirectories: true)
        }
        let config = try ConfigLoader(environment: [:]).load(path: configPath)
        var logger = Logger(label: "herald-test")
        logger.logLevel = logLevel
        server = try HeraldServer(
            config: config,
            options: ServerOptions(rulesDirectory: directory.path + "/rules", rulesPollInterval: rulesPollInterval,
                                   logger: logger))
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let application = server.application { port in portContinuation.yield(port) }
        let group = ServiceGroup(configuration: .init(services: [application], logger: logger))
        self.group = group
        task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw StartFailure() }
        self.port = port
    }

    struct StartFailure: Error {}

    /// Stops the way SIGTERM does: stop accepting, finish requests, commit, return.
    public func stop() async throws {
        await beginShutdown()
        try await task.value
    }

    /// Starts a graceful shutdown without waiting for it.
    public func beginShutdown() async {
        await group.triggerGracefulShutdown()
    }

    /// Waits until the server has stopped.
    public func stopped() async throws {
        try await task.value
    }

    /// Sends a request on a connection of its own.
    public func send(_ request: HTTPTestRequest) async throws -> HTTPTestResponse {
        try await request.send(port: port)
    }

    /// A GET with the admin token.
    public func admin(_ path: String, method: String = "GET") async throws -> HTTPTestResponse {
        try await send(HTTPTestRequest(method, path, headers: [("Authorization", "Bearer \(Self.adminToken)")]))
    }

    /// Posts an event in Herald's own format with the payments key.
    public func postEvent(_ json: String, key: String = "pk-1") async throws -> HTTPTestResponse {
        try await send(HTTPTestRequest("POST", "/api/v1/events", headers: [("Authorization", "Bearer \(key)")], json: json))
    }
}
