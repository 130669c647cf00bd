// HeraldServer is `herald serve`: the Hummingbird application with its routes, and the services that run
// beside it in one ServiceGroup (the ingest writer, the rule reloader, retention).
//
// Data flow: a request is authenticated and admitted, its body read, decompressed and parsed into events, each
// grouped; the events go to the `IngestPipeline`, whose one writer commits them in batches through
// `Store.ingest` (issue update, counters, rule evaluation, firings, outbox rows) and then answers the requests.

import Foundation
import HeraldChat
import HeraldConfig
import HeraldConsole
import HeraldCore
import HeraldDelivery
import HeraldHTTP
import HeraldStore
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// What `herald serve` needs besides the config file's contents.
public struct ServerOptions: Sendable {
    public var rulesDirectory: String
    /// How often the rules directory is checked for changes; nil leaves reloads to SIGHUP and `/-/reload`.
    public var rulesPollInterval: Duration?
    /// How often retention runs.
    public var retentionInterval: Duration
    public var logger: Logger

    public init(
        rulesDirectory: String = "rules", rulesPollInterval: Duration? = .seconds(1),
        retentionInterval: Duration = .seconds(600), logger: Logger = Logger(label: "herald")
    ) {
        self.rulesDirectory = rulesDirectory
        self.rulesPollInterval = rulesPollInterval
        self.retentionInterval = retentionInterval
        self.logger = logger
    }
}

/// The parts of a built server, for `herald serve` and for tests that start it on port 0.
public struct HeraldServer: Sendable {
    public let config: Config
    public let store: Store
    public let rules: RuleBook
    public let metrics: HeraldMetrics
    public let pipeline: IngestPipeline
    public let dispatcher: Dispatcher
    public let actions: IssueActions
    public let http: HTTPClient
    /// Held while the server exists: one server per database.
    public let lock: ServerLock
    let courier: Courier
    public let options: ServerOptions
    /// Signs the console's cookies; its key is made once per database.
    let consoleSecrets: ConsoleSecrets
    /// Filters secrets out of every event at ingest (`scrubbing` in the config).
    let scrubber: Scrubber

    /// Takes the database's lock, opens the store and loads the rules; a rule or storage error, or another
    /// server on the same database, stops the start before anything is read or written.
    public init(config: Config, options: ServerOptions) throws {
        self.config = config
        self.options = options
        lock = try ServerLock(databasePath: config.storage.sqlite)
        store = try Store(
            path: config.storage.sqlite,
            configuration: Store.Configuration(
                eventsPerIssue: config.storage.eventsPerIssue,
                counterRetention: TimeInterval(config.storage.retentionDays) * 86_400))
        try store.syncProjects(config.projects.map { ($0.id, $0.slug) })
        rules = try RuleBook(directory: options.rulesDirectory, config: config)
        metrics = HeraldMetrics()
        http = HTTPClient(configuration: HTTPClient.Configuration(
            totalTimeout: .milliseconds(Int64(config.delivery.requestTimeout * 1_000))))
        consoleSecrets = ConsoleSecrets(key: try store.consoleKey())
        let scrubbing = config.scrubbing.patternProblems
        guard scrubbing.isEmpty else { throw Diagnostics(scrubbing) }
        scrubber = try Scrubber(config.scrubbing)
        let courier = Courier(config: config, http: http, signer: ButtonSigner(key: try store.callbackKey()))
        self.courier = courier
        let dispatcher = Dispatcher(
            store: store, courier: courier, policy: config.delivery, metrics: DeliveryMetrics(factory: metrics.factory),
            logger: options.logger)
        self.dispatcher = dispatcher
        actions = IssueActions(store: store, config: config, queued: { dispatcher.rowsAdded() })
        pipeline = IngestPipeline(
            store: store, rules: rules, metrics: metrics, logger: options.logger, capacity: config.server.ingestQueue,
            newIssues: TokenBuckets { project in
                let limit = config.newIssueLimit(project: project)
                return .init(perSecond: Double(limit.perMinute) / 60, capacity: Double(limit.burst))
            },
            projectSlugs: Dictionary(config.projects.map { ($0.id, $0.slug) }, uniquingKeysWith: { first, _ in first }),
            deliveriesQueued: { dispatcher.rowsAdded() })
    }

    /// What people should read when the server stops with `error`: a listener that could not bind names its
    /// address and the reason, anything else is described as it is.
    public static func describe(_ error: any Error, config: Config) -> String {
        if let error = error as? IOError {
            let address = "\(config.server.host):\(config.server.port)"
            return switch error.errnoCode {
            case EADDRINUSE: "cannot listen on \(address): another program is using that port (server.port in the config)"
            case EACCES: "cannot listen on \(address): permission denied (ports below 1024 need privileges)"
            case EADDRNOTAVAIL: "cannot listen on \(address): this machine has no such address (server.host)"
            default: "cannot listen on \(address): \(error)"
            }
        }
        return String(describing: error)
    }

    /// The Hummingbird application with Herald's routes and services; `onServerRunning` gets the bound port.
    public func application(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in })
        -> some ApplicationProtocol
    {
        let router = Router(context: HeraldRequestContext.self)
        let projects = ProjectDirectory(config.projects)
        let trim = MemoryTrim(logger: options.logger)
        let bodies = BodyBudget(capacity: config.server.ingestBodyBudget, drained: { trim.drained(peak: $0) })
        IngestRoutes(
            projects: projects, pipeline: pipeline, metrics: metrics, maxBodyBytes: config.server.maxBodyBytes,
            bodyTimeout: config.server.bodyTimeout, newIssues: config.server.newIssues, bodies: bodies, scrubber: scrubber)
            .register(on: router)
        AdminRoutes(store: store, actions: actions, projects: projects, rules: rules, adminToken: config.adminToken, metrics: metrics,
                    logger: options.logger)
            .register(on: router)
        OpsRoutes(store: store, rules: rules, pipeline: pipeline, bodies: bodies, metrics: metrics).register(on: router)
        let rules = self.rules
        let pages = ConsolePages(store: store, config: config, rules: {
            let loaded = rules.current
            return LoadedRules(
                engine: loaded.engine, loadedAt: loaded.loadedAt,
                failure: rules.lastFailure.map { ($0.at, $0.diagnostics.all.map(\.description)) })
        })
        let sessions = ConsoleSessions(store: store, config: config, secrets: consoleSecrets)
        ConsoleRoutes(
            pages: pages, sessions: sessions, actions: actions, http: http, logger: options.logger,
            queued: { [dispatcher] in dispatcher.rowsAdded() }
        ).register(on: router)
        SignInRoutes(
            pages: pages, sessions: sessions, secrets: consoleSecrets, store: store, config: config,
            oidc: config.console.oidc.map { OpenIDClient(provider: $0, publicURL: config.server.publicURL, http: http) },
            logger: options.logger
        ).register(on: router)
        let desk = ChatAlertDesk(config: config, pipeline: pipeline, store: store)
        let callbacks = CallbackHandler(actions: actions, desk: desk, logger: options.logger)
        let deferred = DeferredWork()
        SlackRoutes(
            callbacks: callbacks, http: http, directory: SlackDirectory(), deferred: deferred, replays: SlackReplayGuard()
        ).register(on: router)
        MattermostRoutes(callbacks: callbacks, courier: courier, store: store).register(on: router)

        let logger = options.logger
        let ruleSet = rules.engine.ruleSet
        let deadlines = ConnectionDeadlines.Limits(
            header: .milliseconds(Int64(config.server.headerTimeout * 1_000)),
            idle: .milliseconds(Int64(config.server.idleTimeout * 1_000)))
        // The server is the application's last service, so it stops first: by the time the pipeline drains
        // and closes, no request can add to it. Work started by callbacks after their answer finishes before
        // the pipeline it may submit to stops. Delivery stops last, finishing the attempts in progress.
        return Application(
            router: router,
            server: .http1(configuration: .init(
                additionalChannelHandlers: [
                    ReadBufferLimit(maximum: 16 << 10), ConnectionDeadlines(limits: deadlines, metrics: metrics),
                ])),
            configuration: .init(address: .hostname(config.server.host, port: config.server.port), serverName: "herald"),
            // Paused delivery runs no dispatcher: rows stay pending, and are read at the first unpaused start.
            services: [lock] + (config.delivery.paused ? [] : [dispatcher as any Service]) + [
                pipeline,
                deferred,
                trim,
                RuleReloader(book: rules, pollInterval: options.rulesPollInterval, metrics: metrics, logger: logger),
                RetentionService(store: store, interval: options.retentionInterval, logger: logger),
                RegexLimitWatch(rules: rules, metrics: metrics, interval: .seconds(10), logger: logger),
                IgnoreExpiryService(
                    store: store, interval: .seconds(5), queued: { [dispatcher] in dispatcher.rowsAdded() }, logger: logger),
            ],
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? 0
                if config.delivery.paused {
                    logger.warning("delivery is paused (delivery.paused in the config): messages wait in the outbox, nothing is sent")
                }
                if port != config.server.port, config.server.publicURL.hasSuffix(":\(config.server.port)") {
                    logger.warning("public_url names port \(config.server.port), but Herald listens on \(port): links in messages will not reach it; set server.public_url")
                }
                logger.info("herald is serving", metadata: [
                    "address": "\(config.server.host):\(port)", "database": "\(config.storage.sqlite)",
                    "rules": "\(ruleSet.rules.count)", "rules_directory": "\(options.rulesDirectory)",
                    "rules_version": "\(ruleSet.version)", "public_url": "\(config.server.publicURL)",
                ])
                await onServerRunning(port)
            },
            logger: logger)
    }
}
