import Foundation

/// Herald's configuration: the projects, chat workspaces, connectors, webhooks and people that rules refer to.
///
/// Read from one YAML file (`herald.yaml` by default) with `${VAR}` taken from the environment; secrets live
/// only there. `ConfigLoader` reads and validates it.
public struct Config: Sendable {
    public var projects: [Project]
    public var slack: Slack?
    public var mattermost: [MattermostConnector]
    public var webhooks: [Webhook]
    public var users: [User]
    public var server: Server
    public var storage: Storage
    public var delivery: Delivery
    /// Guards the admin API and `/-/` endpoints; without one they answer 401 to everyone.
    public var adminToken: Secret?
    /// How much work one regular-expression match of a rule may do.
    public var regex = Regex()
    /// The web console's sign-in: session lengths, one-time links, and an OpenID Connect provider.
    public var console = Console()
    /// What is removed from events before they are stored or sent anywhere.
    public var scrubbing = Scrubbing()

    /// Server-side data scrubbing, as Sentry's: values under sensitive keys, and values that look like
    /// secrets, are replaced with `[Filtered]` before an event is stored or any message is built from it.
    public struct Scrubbing: Sendable, Hashable {
        /// The built-in key names and value patterns; on by default.
        public var defaults = true
        /// More key names: a key containing one (ignoring case) has its value filtered.
        public var fields: [String] = []
        /// More value patterns (PCRE2): a string value containing a match is filtered.
        public var patterns: [String] = []
        /// Where each of `patterns` is written, for the error of one that does not compile.
        public var patternLocations: [String: SourceLocation] = [:]
        /// Also filter email addresses and IP addresses wherever they appear (the `user` included).
        public var personalData = false
        /// Keys never filtered, even when they contain a sensitive name (`token_count`).
        public var safeFields: [String] = []

        public init() {}
    }

    /// The absolute directory of the config file, which relative paths in it (and the default rules
    /// directory) are taken against; empty for a config read from text.
    public var baseDirectory = ""

    /// The rules directory: `given` as it is (relative to the working directory, as command-line paths are),
    /// else `rules` beside the config file.
    public func rulesDirectory(_ given: String?) -> String {
        if let given { return Self.absolute(given) }
        return baseDirectory.isEmpty ? "rules" : Self.resolve("rules", against: baseDirectory)
    }

    /// `path` made absolute against the working directory, with `.` and `..` folded.
    public static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }

    /// `path` if it is absolute, else `path` inside `directory`.
    public static func resolve(_ path: String, against directory: String) -> String {
        path.hasPrefix("/") ? path : URL(fileURLWithPath: path, relativeTo: URL(fileURLWithPath: directory, isDirectory: true))
            .standardizedFileURL.path
    }

    /// How people sign in to the web console and how long they stay signed in.
    public struct Console: Sendable, Hashable {
        /// A session ends this long after sign-in, whatever happens, in seconds.
        public var sessionLifetime: Double = 12 * 3_600
        /// A session ends when unused this long, in seconds.
        public var sessionIdle: Double = 2 * 3_600
        /// How long a one-time sign-in link (`/herald login`, `herald login-link`) stays usable, in seconds.
        public var signInLinkLifetime: Double = 10 * 60
        /// Sign-in with an OpenID Connect provider; nil offers only one-time links.
        public var oidc: OpenIDConnect?

        public init(oidc: OpenIDConnect? = nil) {
            self.oidc = oidc
        }
    }

    /// An OpenID Connect provider (Sign in with Slack, Google, Keycloak, Okta…), used with the authorization
    /// code flow and PKCE; the redirect URI to register is `<public_url>/login/oidc/callback`.
    public struct OpenIDConnect: Sendable, Hashable {
        /// The issuer URL; discovery reads `<issuer>/.well-known/openid-configuration`.
        public var issuer: String
        public var clientID: String
        public var clientSecret: Secret
        /// What the sign-in button says: "Sign in with <name>".
        public var name: String

        public init(issuer: String, clientID: String, clientSecret: Secret, name: String = "OpenID Connect") {
            self.issuer = issuer
            self.clientID = clientID
            self.clientSecret = clientSecret
            self.name = name
        }
    }

    /// The limits on one match (PCRE2's `match_limit` and `depth_limit`); a match that reaches one gives up.
    public struct Regex: Sendable, Hashable {
        public var matchLimit: Int = 100_000
        public var depthLimit: Int = 10_000

        public init(matchLimit: Int = 100_000, depthLimit: Int = 10_000) {
            self.matchLimit = matchLimit
            self.depthLimit = depthLimit
        }
    }

    public init(
        projects: [Project] = [],
        slack: Slack? = nil,
        mattermost: [MattermostConnector] = [],
        webhooks: [Webhook] = [],
        users: [User] = [],
        server: Server = Server(),
        storage: Storage = Storage(),
        delivery: Delivery = Delivery(),
        adminToken: Secret? = nil
    ) {
        self.projects = projects
        self.slack = slack
        self.mattermost = mattermost
        self.webhooks = webhooks
        self.users = users
        self.server = server
        self.storage = storage
        self.delivery = delivery
        self.adminToken = adminToken
    }

    /// The example config's stand-in secrets (`herald.yaml`'s `${VAR:-dev-…}` defaults), by the key that
    /// holds them: fine for trying Herald out, never for a server others can reach. `herald serve` warns about
    /// each at start. Project keys are left out: every DSN shows them, so they are public anyway.
    public var developmentSecrets: [String] {
        var found: [String] = []
        func check(_ secret: Secret?, _ key: String) {
            if let value = secret?.value, value.hasPrefix("dev-") || value.contains("-dev-") { found.append(key) }
        }
        check(adminToken, "admin_token")
        check(slack?.signingSecret, "slack.signing_secret")
        for workspace in slack?.workspaces ?? [] { check(workspace.token, "slack.workspaces[\(workspace.name)].token") }
        for connector in mattermost {
            check(connector.token, "mattermost[\(connector.name)].token")
            check(connector.commandToken, "mattermost[\(connector.name)].command_token")
        }
        var seen = Set<String>()
        return found.filter { seen.insert($0).inserted }
    }

    public func project(id: Int) -> Project? { projects.first { $0.id == id } }

    public func project(slug: String) -> Project? { projects.first { $0.slug == slug } }
    public func slackWorkspace(named name: String) -> SlackWorkspace? {
        slack?.workspaces.first { $0.name == name }
    }
    public func slackWorkspace(teamID: String) -> SlackWorkspace? {
        slack?.workspaces.first { $0.teamID == teamID }
    }
    /// The Herald user a Slack user is mapped to explicitly.
    public func user(slackID: String) -> User? {
        users.first { $0.slackIDs.contains(slackID) }
    }
    public func mattermostConnector(named name: String) -> MattermostConnector? {
        mattermost.first { $0.name == name }
    }
    public func webhook(named name: String) -> Webhook? { webhooks.first { $0.name == name } }
    public func user(email: String) -> User? {
        users.first { $0.email.caseInsensitiveCompare(email) == .orderedSame }
    }

    /// A project events are sent to; `id` is the number in its Sentry DSN.
    public struct Project: Sendable, Hashable {
        public var id: Int
        public var slug: String
        public var keys: [Secret]
        /// Who may raise alerts for the project from chat besides linked users.
        public var chatAlerts: ChatAlerts
        /// This project's own limit on new issues; nil takes `server.new_issues`.
        public var newIssues: NewIssueLimit?

        public init(id: Int, slug: String, keys: [Secret] = [], chatAlerts: ChatAlerts = ChatAlerts()) {
            self.id = id
            self.slug = slug
            self.keys = keys
            self.chatAlerts = chatAlerts
        }
    }

    /// Alerts raised from chat with `/herald alert`: linked users (in `users`) may raise them for every
    /// project; people Herald does not know only in the channels a project lists, and only when it allows them.
    public struct ChatAlerts: Sendable, Hashable {
        /// Channels (`#name` or id) where the project takes alerts from chat.
        public var allowedChannels: [String]
        public var allowUnlinkedUsers: Bool

        public init(allowedChannels: [String] = [], allowUnlinkedUsers: Bool = false) {
            self.allowedChannels = allowedChannels
            self.allowUnlinkedUsers = allowUnlinkedUsers
        }

        /// Whether a channel, by id or name, is one of `allowedChannels`.
        public func allows(channelID: String, channelName: String) -> Bool {
            allowedChannels.contains { allowed in
                let bare = allowed.hasPrefix("#") || allowed.hasPrefix("~") ? String(allowed.dropFirst()) : allowed
                return bare == channelID || bare.caseInsensitiveCompare(channelName) == .orderedSame
            }
        }
    }

    public struct Slack: Sendable {
        /// Verifies that interaction callbacks come from Slack.
        public var signingSecret: Secret?
        public var workspaces: [SlackWorkspace]

        public init(signingSecret: Secret? = nil, workspaces: [SlackWorkspace] = []) {
            self.signingSecret = signingSecret
            self.workspaces = workspaces
        }
    }

    /// One Slack install: each workspace has its own bot token.
    public struct SlackWorkspace: Sendable, Hashable {
        public static let defaultAPIURL = "https://slack.com/api"

        public var name: String
        public var token: Secret
        public var apiURL: String
        /// Where a message goes when a channel taken from a tag does not exist.
        public var fallbackChannel: String?
        /// Slack's id of the workspace (`T…`): button clicks and slash commands name it, and one from a team not
        /// in the config is refused.
        public var teamID: String?

        public init(
            name: String, token: Secret, apiURL: String = Self.defaultAPIURL, fallbackChannel: String? = nil,
            teamID: String? = nil
        ) {
            self.name = name
            self.token = token
            self.apiURL = apiURL
            self.fallbackChannel = fallbackChannel
            self.teamID = teamID
        }
    }

    /// A Mattermost server, reached through its bot REST API (`token`) or an incoming webhook.
    public struct MattermostConnector: Sendable, Hashable {
        public var name: String
        public var url: String
        public var token: Secret?
        public var webhookURL: Secret?
        /// The team whose channels rules name; the bot API needs it to turn a channel name into an id.
        public var team: String?
        /// Where a message goes when a channel taken from a tag does not exist.
        public var fallbackChannel: String?
        /// The token of the `/herald` slash command, which Mattermost sends as `Authorization: Token …`.
        public var commandToken: Secret?
        /// How long the buttons of a post stay usable after it was last rendered, in seconds.
        public var buttonLifetime: Int = 30 * 86_400
        /// Where button clicks may come from; empty accepts any source.
        public var actionSources: [AddressRange] = []

        public init(
            name: String, url: String, token: Secret? = nil, webhookURL: Secret? = nil, team: String? = nil,
            fallbackChannel: String? = nil, commandToken: Secret? = nil
        ) {
            self.name = name
            self.url = url
            self.token = token
            self.webhookURL = webhookURL
            self.team = team
            self.fallbackChannel = fallbackChannel
            self.commandToken = commandToken
        }
    }

    /// A plain HTTP endpoint that receives alerts as JSON.
    public struct Webhook: Sendable, Hashable {
        public var name: String
        public var url: String
        /// Signs each body with HMAC-SHA256 when set.
        public var secret: Secret?

        public init(name: String, url: String, secret: Secret? = nil) {
            self.name = name
            self.url = url
            self.secret = secret
        }
    }

    /// A person who may act on issues from chat.
    public struct User: Sendable, Hashable {
        public var email: String
        public var name: String
        public var role: Role
        /// Slack user ids (`U…`) that are this person, for when Slack's email differs or is not visible.
        public var slackIDs: [String]

        public init(email: String, name: String, role: Role, slackIDs: [String] = []) {
            self.email = email
            self.name = name
            self.role = role
            self.slackIDs = slackIDs
        }
    }

    /// How fast a project may open issues: `perMinute` on average, with `burst` at once. Events of existing
    /// issues are never limited; an event that would open one past the limit is refused with 429.
    public struct NewIssueLimit: Sendable, Hashable {
        public var perMinute: Int
        public var burst: Int

        public init(perMinute: Int = 600, burst: Int = 300) {
            self.perMinute = perMinute
            self.burst = burst
        }
    }

    /// The new-issue limit of a project: its own, else the server's.
    public func newIssueLimit(project id: Int) -> NewIssueLimit {
        projects.first { $0.id == id }?.newIssues ?? server.newIssues
    }

    /// Where `herald serve` listens and what it accepts.
    public struct Server: Sendable, Hashable {
        public static let defaultMaxBodyBytes = 1 << 20
        public static let defaultIngestQueue = 1_000

        public var host: String
        /// 0 picks a free port (tests).
        public var port: Int
        /// How people reach Herald: links in messages and chat callbacks point here.
        public var publicURL: String
        /// The largest request body accepted, as sent and after decompression.
        public var maxBodyBytes: Int
        /// Events accepted but not yet committed; past this, ingestion answers 429.
        public var ingestQueue: Int
        /// How long a request's body may take to arrive, in seconds: a client that sends it slower is answered
        /// 408, and for ingestion its place in the queue is freed.
        public var bodyTimeout: Double = 30
        /// How long a new connection may take to send its first request's head, in seconds, before it is closed.
        public var headerTimeout: Double = 10
        /// How long a kept-alive connection may wait between a response and the next request's complete head,
        /// in seconds, before it is closed.
        public var idleTimeout: Double = 60
        /// The bytes of request bodies all ingest requests may hold at once (as sent, and again once
        /// decompressed); a request that does not fit is answered 429 before its body is read.
        public var ingestBodyBudget = 128 << 20
        /// How many new issues each project may open: a steady rate and a burst on top of it. A project's own
        /// `new_issues` overrides it.
        public var newIssues = NewIssueLimit()

        public init(
            host: String = "127.0.0.1", port: Int = 8080, publicURL: String? = nil,
            maxBodyBytes: Int = Self.defaultMaxBodyBytes, ingestQueue: Int = Self.defaultIngestQueue
        ) {
            self.host = host
            self.port = port
            self.publicURL = publicURL ?? "http://\(host == "0.0.0.0" ? "localhost" : host):\(port)"
            self.maxBodyBytes = maxBodyBytes
            self.ingestQueue = ingestQueue
        }
    }

    /// Where state lives and how long it is kept.
    public struct Storage: Sendable, Hashable {
        public static let defaultPath = "data/herald.sqlite"
        public static let defaultEventsPerIssue = 100
        public static let defaultRetentionDays = 30

        /// The SQLite file, relative to the working directory.
        public var sqlite: String
        public var eventsPerIssue: Int
        /// Counters, firings and finished deliveries older than this are deleted.
        public var retentionDays: Int

        public init(
            sqlite: String = Self.defaultPath, eventsPerIssue: Int = Self.defaultEventsPerIssue,
            retentionDays: Int = Self.defaultRetentionDays
        ) {
            self.sqlite = sqlite
            self.eventsPerIssue = eventsPerIssue
            self.retentionDays = retentionDays
        }
    }

    /// How the outbox is drained.
    public struct Delivery: Sendable, Hashable {
        /// What a rule firing again for an issue posts in a channel that already shows the issue.
        public enum RepeatFirings: String, Sendable, Hashable, CaseIterable {
            /// A reply in the first message's thread, and the first message's counts brought up to date.
            case thread
            /// A new message each time.
            case newMessage = "new_message"
        }

        public var repeatFirings: RepeatFirings
        /// Nothing is sent: messages wait in the outbox (pending) until delivery is unpaused and Herald
        /// restarted. The example config starts paused, since its targets are placeholders.
        public var paused = false
        /// A message that could not be sent for this long (seconds since it was queued) is given up.
        public var giveUpAfter: Double
        /// Messages a channel may receive at once before pacing to one per `channelInterval`.
        public var channelBurst: Int
        /// Seconds between messages to one channel once its burst is spent (Slack allows about one a second).
        public var channelInterval: Double
        /// Seconds one request to a chat platform or webhook may take, connect included.
        public var requestTimeout: Double
        /// Requests in progress at once, over all targets.
        public var maxInFlight: Int
        /// Requests in progress at once to one workspace, connector or webhook, so that one slow target cannot
        /// take every slot.
        public var maxInFlightPerTarget: Int
        /// The first retry's delay in seconds; each later one doubles it, with jitter, up to `maxRetryDelay`.
        public var retryDelay: Double
        public var maxRetryDelay: Double
        /// A retry due within this many seconds waits in memory; a later one waits in the database (status
        /// `retrying`), so a target that is down for hours cannot fill memory or hold up the others.
        public var memoryRetrySeconds: Double

        public init(
            repeatFirings: RepeatFirings = .thread, giveUpAfter: Double = 86_400, channelBurst: Int = 3,
            channelInterval: Double = 1, requestTimeout: Double = 10, maxInFlight: Int = 512,
            maxInFlightPerTarget: Int = 128, retryDelay: Double = 2, maxRetryDelay: Double = 600,
            memoryRetrySeconds: Double = 5
        ) {
            self.repeatFirings = repeatFirings
            self.giveUpAfter = giveUpAfter
            self.channelBurst = channelBurst
            self.channelInterval = channelInterval
            self.requestTimeout = requestTimeout
            self.maxInFlight = maxInFlight
            self.maxInFlightPerTarget = maxInFlightPerTarget
            self.retryDelay = retryDelay
            self.maxRetryDelay = maxRetryDelay
            self.memoryRetrySeconds = memoryRetrySeconds
        }
    }

    public enum Role: String, Sendable, Hashable, CaseIterable {
        /// May change any issue and raise alerts.
        case admin
        /// May change issues and raise alerts.
        case member
        /// May read, never change.
        case stakeholder
    }
}
