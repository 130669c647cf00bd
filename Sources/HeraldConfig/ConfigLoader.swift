import Foundation
import Yams

/// Reads and validates `herald.yaml`, reporting every problem with its location.
public struct ConfigLoader: Sendable {
    public var environment: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.environment = environment
    }

    /// Loads the config file at `path`.
    public func load(path: String) throws(Diagnostics) -> Config {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw Diagnostics([Diagnostic("cannot read config file: \(error.localizedDescription)",
                                          at: SourceLocation(file: path, line: 1, column: 1))])
        }
        var config = try load(text: text, file: path)
        // Paths in the file mean the same wherever Herald is started from: relative to the file itself.
        let directory = Config.absolute(URL(fileURLWithPath: path).deletingLastPathComponent().path)
        config.baseDirectory = directory
        config.storage.sqlite = Config.resolve(config.storage.sqlite, against: directory)
        return config
    }

    /// Loads config text; `file` names it in diagnostics.
    public func load(text: String, file: String) throws(Diagnostics) -> Config {
        let reader = YAMLReader(file: file)
        let shielded = ShieldedText(text)
        let expansion = EnvironmentExpansion(environment: environment)
        let config = reader.parse(shielded.text)
            .map { expand($0, shielded: shielded, expansion: expansion, reader: reader) }
            .flatMap { ConfigReading(reader: reader).read($0) }
        guard reader.diagnostics.isEmpty, let config else { throw Diagnostics(reader.diagnostics) }
        return config
    }

    /// Replaces `${VAR}` in every scalar, reporting each variable that is not set where it is used.
    private func expand(_ node: Node, shielded: ShieldedText, expansion: EnvironmentExpansion, reader: YAMLReader) -> Node {
        switch node {
        case .scalar(var scalar):
            let raw = shielded.restore(scalar.string)
            switch expansion.expand(raw) {
            case .success(let value):
                scalar.string = value
            case .failure(.unset(let name)):
                reader.report("environment variable \(name) is not set (write ${\(name):-default} to give a default)",
                              at: node)
                scalar.string = raw
            case .failure(.unterminated):
                reader.report("'${' without its closing '}'", at: node)
                scalar.string = raw
            case .failure(.badName(let name)):
                reader.report("'\(name)' is not an environment variable name", at: node)
                scalar.string = raw
            }
            return .scalar(scalar)
        case .mapping(let mapping):
            let pairs = mapping.map { pair in
                (expand(pair.key, shielded: shielded, expansion: expansion, reader: reader),
                 expand(pair.value, shielded: shielded, expansion: expansion, reader: reader))
            }
            return .mapping(.init(pairs, mapping.tag, mapping.style, mapping.mark))
        case .sequence(let sequence):
            let nodes = sequence.map { expand($0, shielded: shielded, expansion: expansion, reader: reader) }
            return .sequence(.init(nodes, sequence.tag, sequence.style, sequence.mark))
        case .alias:
            return node
        }
    }
}

/// One pass over a parsed config document.
private struct ConfigReading {
    let reader: YAMLReader

    func read(_ root: Node) -> Config? {
        let topKeys = [
            "projects", "slack", "mattermost", "webhooks", "users", "server", "storage", "delivery", "admin_token", "regex",
            "console", "scrubbing",
        ]
        guard let fields = reader.mapping(root, "the config", allowed: topKeys, required: ["projects"]) else {
            return nil
        }
        var config = Config()
        if let node = fields["projects"] {
            let projects = list(node, "projects", read: project)
            checkUnique(projects, \.slug, what: "project slug")
            checkUnique(projects, { String($0.id) }, what: "project id")
            config.projects = projects.map(\.value)
        }
        if let node = fields["slack"] { config.slack = slack(node) }
        if let node = fields["mattermost"] {
            let connectors = list(node, "mattermost", read: mattermost)
            checkUnique(connectors, \.name, what: "Mattermost connector name")
            config.mattermost = connectors.map(\.value)
        }
        if let node = fields["webhooks"] {
            let webhooks = list(node, "webhooks", read: webhook)
            checkUnique(webhooks, \.name, what: "webhook name")
            config.webhooks = webhooks.map(\.value)
        }
        if let node = fields["users"] {
            let users = list(node, "users", read: user)
            checkUnique(users, { $0.email.lowercased() }, what: "user email")
            config.users = users.map(\.value)
        }
        if let node = fields["server"], let server = server(node) { config.server = server }
        if let node = fields["storage"], let storage = storage(node) { config.storage = storage }
        if let node = fields["delivery"], let delivery = delivery(node) { config.delivery = delivery }
        if let node = fields["regex"], let fields = reader.mapping(node, "regex", allowed: ["match_limit", "depth_limit"]) {
            if let limit = fields["match_limit"].flatMap({ reader.int($0, "match_limit", range: 1_000...10_000_000) }) {
                config.regex.matchLimit = limit
            }
            if let limit = fields["depth_limit"].flatMap({ reader.int($0, "depth_limit", range: 100...1_000_000) }) {
                config.regex.depthLimit = limit
            }
        }
        config.adminToken = fields["admin_token"].flatMap { secret($0, "admin_token") }
        if let node = fields["console"], let console = console(node) { config.console = console }
        if let node = fields["scrubbing"], let scrubbing = scrubbing(node) { config.scrubbing = scrubbing }
        return config
    }

    /// `scrubbing: {defaults, fields, patterns, personal_data, safe_fields}`.
    private func scrubbing(_ node: Node) -> Config.Scrubbing? {
        let allowed = ["defaults", "fields", "patterns", "personal_data", "safe_fields"]
        guard let fields = reader.mapping(node, "scrubbing", allowed: allowed) else { return nil }
        var scrubbing = Config.Scrubbing()
        if let value = fields["defaults"].flatMap({ reader.bool($0, "defaults") }) { scrubbing.defaults = value }
        if let value = fields["personal_data"].flatMap({ reader.bool($0, "personal_data") }) { scrubbing.personalData = value }
        func texts(_ key: String) -> [String] {
            fields[key].flatMap { reader.sequence($0, key) }?.compactMap { text($0, key) } ?? []
        }
        scrubbing.fields = texts("fields").map { $0.lowercased() }
        scrubbing.safeFields = texts("safe_fields").map { $0.lowercased() }
        for node in fields["patterns"].flatMap({ reader.sequence($0, "patterns") }) ?? [] {
            guard let pattern = text(node, "patterns") else { continue }
            scrubbing.patterns.append(pattern)
            scrubbing.patternLocations[pattern] = reader.location(of: node)
        }
        return scrubbing
    }

    /// `console: {session_hours, session_idle_minutes, sign_in_link_minutes, oidc: {issuer, client_id, client_secret, name}}`.
    private func console(_ node: Node) -> Config.Console? {
        let allowed = ["session_hours", "session_idle_minutes", "sign_in_link_minutes", "oidc"]
        guard let fields = reader.mapping(node, "console", allowed: allowed) else { return nil }
        var console = Config.Console()
        if let hours = fields["session_hours"].flatMap({ reader.number($0, "session_hours", range: 0.1...720) }) {
            console.sessionLifetime = hours * 3_600
        }
        if let minutes = fields["session_idle_minutes"].flatMap({ reader.number($0, "session_idle_minutes", range: 1...43_200) }) {
            console.sessionIdle = minutes * 60
        }
        if let minutes = fields["sign_in_link_minutes"].flatMap({ reader.number($0, "sign_in_link_minutes", range: 1...1_440) }) {
            console.signInLinkLifetime = minutes * 60
        }
        if let node = fields["oidc"],
            let oidc = reader.mapping(
                node, "oidc", allowed: ["issuer", "client_id", "client_secret", "name"],
                required: ["issuer", "client_id", "client_secret"]),
            let issuer = oidc["issuer"].flatMap({ url($0, "issuer") }),
            let clientID = oidc["client_id"].flatMap({ text($0, "client_id") }),
            let clientSecret = oidc["client_secret"].flatMap({ secret($0, "client_secret") })
        {
            console.oidc = Config.OpenIDConnect(
                issuer: issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer, clientID: clientID,
                clientSecret: clientSecret, name: oidc["name"].flatMap { text($0, "name") } ?? "OpenID Connect")
        }
        return console
    }

    /// Reads every field it can, so one bad value does not hide the next.
    private func server(_ node: Node) -> Config.Server? {
        let allowed = [
            "host", "port", "public_url", "max_body_bytes", "ingest_queue", "body_timeout_seconds", "header_timeout_seconds",
            "idle_timeout_seconds", "new_issues", "ingest_body_budget_bytes",
        ]
        guard let fields = reader.mapping(node, "server", allowed: allowed) else { return nil }
        let defaults = Config.Server()
        let host = fields["host"].flatMap { text($0, "host") } ?? defaults.host
        let port = fields["port"].flatMap { reader.int($0, "port", range: 0...65_535) } ?? defaults.port
        var server = Config.Server(host: host, port: port)
        if let publicURL = fields["public_url"].flatMap({ url($0, "public_url") }) {
            server.publicURL = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
        }
        if let bytes = fields["max_body_bytes"].flatMap({ reader.int($0, "max_body_bytes", range: 1_024...(256 << 20)) }) {
            server.maxBodyBytes = bytes
        }
        if let size = fields["ingest_queue"].flatMap({ reader.int($0, "ingest_queue", range: 1...1_000_000) }) {
            server.ingestQueue = size
        }
        func seconds(_ key: String, _ range: ClosedRange<Double>) -> Double? {
            fields[key].flatMap { reader.number($0, key, range: range) }
        }
        if let value = seconds("body_timeout_seconds", 0.1...3_600) { server.bodyTimeout = value }
        if let value = seconds("header_timeout_seconds", 0.1...3_600) { server.headerTimeout = value }
        if let value = seconds("idle_timeout_seconds", 0.1...3_600) { server.idleTimeout = value }
        if let node = fields["ingest_body_budget_bytes"],
            let bytes = reader.int(node, "ingest_body_budget_bytes", range: (1 << 20)...(64 << 30))
        {
            server.ingestBodyBudget = bytes
        }
        if server.ingestBodyBudget < server.maxBodyBytes {
            reader.report(
                "'ingest_body_budget_bytes' (\(server.ingestBodyBudget)) must be at least 'max_body_bytes' (\(server.maxBodyBytes)), "
                    + "or no body of the largest size could ever be taken",
                at: fields["ingest_body_budget_bytes"] ?? fields["max_body_bytes"] ?? node)
        }
        if let node = fields["new_issues"], let limit = newIssueLimit(node, defaults: server.newIssues) {
            server.newIssues = limit
        }
        return server
    }

    /// `{per_minute: 600, burst: 300}`; a key left out keeps its default.
    private func newIssueLimit(_ node: Node, defaults: Config.NewIssueLimit) -> Config.NewIssueLimit? {
        guard let fields = reader.mapping(node, "new_issues", allowed: ["per_minute", "burst"]) else { return nil }
        var limit = defaults
        if let value = fields["per_minute"].flatMap({ reader.int($0, "per_minute", range: 1...1_000_000) }) {
            limit.perMinute = value
        }
        if let value = fields["burst"].flatMap({ reader.int($0, "burst", range: 1...1_000_000) }) { limit.burst = value }
        return limit
    }

    private func storage(_ node: Node) -> Config.Storage? {
        let allowed = ["sqlite", "events_per_issue", "retention_days"]
        guard let fields = reader.mapping(node, "storage", allowed: allowed) else { return nil }
        var storage = Config.Storage()
        if let path = fields["sqlite"].flatMap({ text($0, "sqlite") }) { storage.sqlite = path }
        if let count = fields["events_per_issue"].flatMap({ reader.int($0, "events_per_issue", range: 1...100_000) }) {
            storage.eventsPerIssue = count
        }
        if let days = fields["retention_days"].flatMap({ reader.int($0, "retention_days", range: 1...3_650) }) {
            storage.retentionDays = days
        }
        return storage
    }

    private func delivery(_ node: Node) -> Config.Delivery? {
        let allowed = [
            "repeat_firings", "give_up_after_hours", "channel_burst", "channel_interval_seconds",
            "request_timeout_seconds", "max_in_flight", "max_in_flight_per_target", "retry_delay_seconds",
            "max_retry_delay_seconds", "memory_retry_seconds", "paused",
        ]
        guard let fields = reader.mapping(node, "delivery", allowed: allowed) else { return nil }
        var delivery = Config.Delivery()
        if let paused = fields["paused"].flatMap({ reader.bool($0, "paused") }) { delivery.paused = paused }
        if let node = fields["repeat_firings"], let name = text(node, "repeat_firings") {
            if let mode = Config.Delivery.RepeatFirings(rawValue: name) {
                delivery.repeatFirings = mode
            } else {
                let modes = Config.Delivery.RepeatFirings.allCases.map(\.rawValue)
                reader.report("unknown repeat_firings '\(name)'; \(allowedValuesHint(for: name, among: modes))", at: node)
            }
        }
        func seconds(_ key: String, _ range: ClosedRange<Double>, scale: Double = 1) -> Double? {
            fields[key].flatMap { reader.number($0, key, range: range) }.map { $0 * scale }
        }
        if let value = seconds("give_up_after_hours", 0.0001...720, scale: 3_600) { delivery.giveUpAfter = value }
        if let value = seconds("channel_interval_seconds", 0...60) { delivery.channelInterval = value }
        if let value = seconds("request_timeout_seconds", 0.1...300) { delivery.requestTimeout = value }
        if let value = seconds("retry_delay_seconds", 0.001...3_600) { delivery.retryDelay = value }
        if let value = seconds("max_retry_delay_seconds", 0.001...86_400) { delivery.maxRetryDelay = value }
        if let value = seconds("memory_retry_seconds", 0...3_600) { delivery.memoryRetrySeconds = value }
        if let value = fields["channel_burst"].flatMap({ reader.int($0, "channel_burst", range: 1...100) }) {
            delivery.channelBurst = value
        }
        if let value = fields["max_in_flight"].flatMap({ reader.int($0, "max_in_flight", range: 1...10_000) }) {
            delivery.maxInFlight = value
        }
        if let value = fields["max_in_flight_per_target"].flatMap({
            reader.int($0, "max_in_flight_per_target", range: 1...10_000)
        }) {
            delivery.maxInFlightPerTarget = value
        }
        return delivery
    }

    /// Reads each element of a list, keeping its node so later checks can point at it.
    private func list<T>(_ node: Node, _ field: String, read: (Node) -> T?) -> [(value: T, node: Node)] {
        (reader.sequence(node, field) ?? []).compactMap { item in read(item).map { ($0, item) } }
    }

    private func project(_ node: Node) -> Config.Project? {
        guard let fields = reader.mapping(
            node, "project", allowed: ["id", "slug", "keys", "chat_alerts", "new_issues"], required: ["id", "slug"]),
            let id = fields["id"].flatMap({ reader.int($0, "id", range: 1...Int(Int32.max)) }),
            let slug = fields["slug"].flatMap({ text($0, "slug") })
        else { return nil }
        guard slug.range(of: "^[a-z0-9][a-z0-9_-]*$", options: .regularExpression) != nil else {
            reader.report("project slug '\(slug)' must be lowercase letters, digits, '-' and '_'", at: fields["slug"]!)
            return nil
        }
        let keys = fields["keys"].flatMap { reader.sequence($0, "keys") }?.compactMap { secret($0, "keys") } ?? []
        var project = Config.Project(id: id, slug: slug, keys: keys)
        project.newIssues = fields["new_issues"].flatMap { newIssueLimit($0, defaults: Config.NewIssueLimit()) }
        if let node = fields["chat_alerts"],
            let alerts = reader.mapping(node, "chat_alerts", allowed: ["allowed_channels", "allow_unlinked_users"])
        {
            project.chatAlerts.allowedChannels = alerts["allowed_channels"]
                .flatMap { reader.sequence($0, "allowed_channels") }?.compactMap { text($0, "allowed_channels") } ?? []
            project.chatAlerts.allowUnlinkedUsers = alerts["allow_unlinked_users"]
                .flatMap { reader.bool($0, "allow_unlinked_users") } ?? false
        }
        return project
    }

    private func slack(_ node: Node) -> Config.Slack? {
        guard let fields = reader.mapping(node, "slack", allowed: ["signing_secret", "workspaces"]) else { return nil }
        let workspaces = fields["workspaces"].map { list($0, "workspaces", read: slackWorkspace) } ?? []
        checkUnique(workspaces, \.name, what: "Slack workspace name")
        return Config.Slack(
            signingSecret: fields["signing_secret"].flatMap { secret($0, "signing_secret") },
            workspaces: workspaces.map(\.value))
    }

    private func slackWorkspace(_ node: Node) -> Config.SlackWorkspace? {
        let allowed = ["name", "token", "api_url", "fallback_channel", "team_id"]
        guard let fields = reader.mapping(node, "Slack workspace", allowed: allowed, required: ["name", "token"]),
            let name = fields["name"].flatMap({ text($0, "name") }),
            let token = fields["token"].flatMap({ secret($0, "token") })
        else { return nil }
        var workspace = Config.SlackWorkspace(name: name, token: token)
        if let node = fields["api_url"] {
            guard let url = url(node, "api_url") else { return nil }
            workspace.apiURL = url
        }
        workspace.fallbackChannel = fields["fallback_channel"].flatMap { text($0, "fallback_channel") }
        workspace.teamID = fields["team_id"].flatMap { text($0, "team_id") }
        return workspace
    }

    private func mattermost(_ node: Node) -> Config.MattermostConnector? {
        let allowed = [
            "name", "url", "token", "webhook_url", "team", "fallback_channel", "command_token", "button_lifetime_hours",
            "action_sources",
        ]
        guard let fields = reader.mapping(node, "Mattermost connector", allowed: allowed, required: ["name", "url"]),
            let name = fields["name"].flatMap({ text($0, "name") }),
            let url = fields["url"].flatMap({ url($0, "url") })
        else { return nil }
        var connector = Config.MattermostConnector(
            name: name, url: url,
            token: fields["token"].flatMap { secret($0, "token") },
            webhookURL: fields["webhook_url"].flatMap { secret($0, "webhook_url") },
            team: fields["team"].flatMap { text($0, "team") },
            fallbackChannel: fields["fallback_channel"].flatMap { text($0, "fallback_channel") },
            commandToken: fields["command_token"].flatMap { secret($0, "command_token") })
        if let hours = fields["button_lifetime_hours"].flatMap({ reader.int($0, "button_lifetime_hours", range: 1...8_760) }) {
            connector.buttonLifetime = hours * 3_600
        }
        if let sources = fields["action_sources"] {
            connector.actionSources = addressRanges(sources, "action_sources")
        }
        if connector.token == nil && connector.webhookURL == nil {
            reader.report("Mattermost connector '\(name)' needs a 'token' (bot REST API) or a 'webhook_url'", at: node)
        }
        return connector
    }

    /// A list of addresses and CIDR networks; each entry that is neither is reported.
    private func addressRanges(_ node: Node, _ field: String) -> [AddressRange] {
        list(node, field) { entry in
            guard let text = text(entry, field) else { return nil }
            guard let range = AddressRange(text) else {
                reader.report("'\(text)' in '\(field)' is not an IP address or a CIDR network like 10.0.0.0/8", at: entry)
                return nil
            }
            return range
        }.map(\.value)
    }

    private func webhook(_ node: Node) -> Config.Webhook? {
        guard let fields = reader.mapping(node, "webhook", allowed: ["name", "url", "secret"], required: ["name", "url"]),
            let name = fields["name"].flatMap({ text($0, "name") }),
            let url = fields["url"].flatMap({ url($0, "url") })
        else { return nil }
        return Config.Webhook(name: name, url: url, secret: fields["secret"].flatMap { secret($0, "secret") })
    }

    private func user(_ node: Node) -> Config.User? {
        guard let fields = reader.mapping(
            node, "user", allowed: ["email", "name", "role", "slack_ids"], required: ["email", "role"]),
            let email = fields["email"].flatMap({ text($0, "email") }),
            let roleName = fields["role"].flatMap({ text($0, "role") })
        else { return nil }
        guard email.range(of: #"^[^@\s]+@[^@\s]+$"#, options: .regularExpression) != nil else {
            reader.report("'\(email)' is not an email address", at: fields["email"]!)
            return nil
        }
        guard let role = Config.Role(rawValue: roleName) else {
            let roles = Config.Role.allCases.map(\.rawValue)
            reader.report("unknown role '\(roleName)'; \(allowedValuesHint(for: roleName, among: roles))", at: fields["role"]!)
            return nil
        }
        let name = fields["name"].flatMap { text($0, "name") } ?? email
        let slackIDs = fields["slack_ids"].flatMap { reader.sequence($0, "slack_ids") }?.compactMap { text($0, "slack_ids") } ?? []
        return Config.User(email: email, name: name, role: role, slackIDs: slackIDs)
    }

    // MARK: Values

    private func text(_ node: Node, _ field: String) -> String? { reader.nonEmptyString(node, field) }

    private func secret(_ node: Node, _ field: String) -> Secret? { text(node, field).map(Secret.init) }

    private func url(_ node: Node, _ field: String) -> String? {
        guard let value = text(node, field) else { return nil }
        guard let url = URL(string: value), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
            url.host != nil
        else {
            reader.report("'\(field)' must be an http or https URL, not '\(value)'", at: node)
            return nil
        }
        return value
    }

    private func checkUnique<T>(_ items: [(value: T, node: Node)], _ key: (T) -> String, what: String) {
        var seen = Set<String>()
        for item in items where !seen.insert(key(item.value)).inserted {
            reader.report("\(what) '\(key(item.value))' is defined more than once", at: item.node)
        }
    }
}
