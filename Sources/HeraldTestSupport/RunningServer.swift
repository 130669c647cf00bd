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
    /// workspaces (acme, and globex with the fallback channel `#alerts`), a Mattermost connector (ops, team
    /// `ops`), a webhook (pager, signed with `hook-secret`), and users of every role. `extra` is appended.
    ///
    /// With `chat`, every chat target and the webhook point at that double; without one they point at a
    /// closed loopback port, so deliveries stay pending and nothing leaves the machine.
    /// `mattermostOptions` is added inside the ops connector's mapping (`", action_sources: [10.0.0.0/8]"`).
    public static func configYAML(
        directory: String, extra: String = "", chat: ChatDouble? = nil, mattermostOptions: String = ""
    ) -> String {
        let closed = "http://127.0.0.1:9"
        return """
        projects:
          - {id: 1, slug: payments, keys: [pk-1, pk-1b]}
          - {id: 2, slug: web, keys: [wk-2]}
        slack:
          signing_secret: signing
          workspaces:
            - {name: acme, token: xoxb-acme, team_id: T0ACME, api_url: "\(chat?.slackURL ?? closed + "/api")"}
            - {name: globex, token: xoxb-globex, team_id: T0GLOBEX, api_url: "\(chat?.slackURL ?? closed + "/api")", fallback_channel: "#alerts"}
        mattermost:
          - {name: ops, url: "\(chat?.mattermostURL ?? closed)", token: mm-token, team: ops\(mattermostOptions)}
        webhooks:
          - {name: pager, url: "\(chat?.webhookURL("pager") ?? closed + "/hooks/pager")", secret: hook-secret}
        users:
          - {email: alice@example.com, name: Alice, role: admin}
          - {email: bob@example.com, name: Bob, role: member}
          - {email: carol@example.com, name: Carol, role: stakeholder}
          - {email: dan@example.com, name: Dan, role: member, slack_ids: [U0DAN]}
        storage:
          sqlite: \(directory)/data/herald.sqlite
        admin_token: \(adminToken)
        server:
          port: 0
          public_url: "https://herald.example.com"
        \(extra)
        """
    }

    /// A chat double with the workspaces, team and channels `configYAML` names: acme (`xoxb-acme`: payments,
    /// oncall, backend), globex (`xoxb-globex`: alerts, ops) and the Mattermost team ops (`mm-token`:
    /// incidents, alerts). Its Slack users: U0ALICE, U0BOB, U0CAROL (the config's admin, member and
    /// stakeholder, by email), U0EVE (an email Herald does not know) and U0DAN (mapped by `slack_ids`, with a
    /// different email at Slack). Its Mattermost users: mmalice, mmbob, mmcarol and mmeve, the same people.
    public static func chatDouble() async throws -> ChatDouble {
        try await ChatDouble(
            slack: [
                "acme": (token: "xoxb-acme", channels: ["payments", "oncall", "backend"]),
                "globex": (token: "xoxb-globex", channels: ["alerts", "ops"]),
            ],
            mattermost: ["ops": (token: "mm-token", channels: ["incidents", "alerts"])],
            slackUsers: [
                "U0ALICE": "alice@example.com", "U0BOB": "bob@example.com", "U0CAROL": "carol@example.com",
                "U0EVE": "eve@example.com", "U0DAN": "dan.at.home@example.net",
            ],
            mattermostUsers: [
                "mmalice": "alice@example.com", "mmbob": "bob@example.com", "mmcarol": "carol@example.com",
                "mmeve": "eve@example.com",
            ])
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

/// Waits until `condition` holds, checking every 20 ms, and fails after `timeout`: for effects that happen
/// in the background, such as deliveries. The timeout only bounds a failing test; it asserts nothing.
public func eventually(
    timeout: Duration = .seconds(15), _ what: String = "condition",
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw EventuallyTimedOut(what: what) }
        try await Task.sleep(for: .milliseconds(20))
    }
}

public struct EventuallyTimedOut: Error, CustomStringConvertible {
    public var what: String
    public var description: String { "timed out waiting for \(what)" }
}
