import HeraldConfig
import HeraldTestSupport
import Testing

@Suite struct ConfigLoaderTests {
    @Test func loadsTheIssueExampleWithSecretsFromTheEnvironment() throws {
        let config = Fixtures.config()
        #expect(config.projects.map(\.slug) == ["payments", "web"])
        #expect(config.projects.map(\.id) == [1, 2])
        #expect(config.projects[0].keys == [Secret("pk-1")])
        #expect(config.slack?.signingSecret == Secret("signing"))
        #expect(config.slack?.workspaces.map(\.name) == ["acme", "globex"])
        #expect(config.slackWorkspace(named: "globex")?.apiURL == "https://slack.com/api")
        #expect(config.slackWorkspace(named: "acme")?.token.value == "xoxb-acme")
        #expect(config.mattermostConnector(named: "ops")?.webhookURL?.value == "https://mm.example.com/hooks/x")
        #expect(config.webhook(named: "pager")?.url == "https://events.example.com/herald")
        #expect(config.user(email: "ALICE@example.com")?.role == .admin)
    }

    @Test func secretsNeverPrint() {
        let secret = Secret("xoxb-very-secret")
        #expect("\(secret)" == "<redacted>")
        #expect(String(reflecting: secret) == "<redacted>")
        #expect(!"\(Fixtures.config().slack!.workspaces)".contains("xoxb"))
    }

    @Test func environmentExpansion() {
        let expansion = EnvironmentExpansion(environment: ["A": "1", "EMPTY": ""])
        #expect(expansion.expand("x${A}y${A}") == .success("x1y1"))
        #expect(expansion.expand("${MISSING:-fallback}") == .success("fallback"))
        #expect(expansion.expand("${EMPTY:-fallback}") == .success("fallback"))
        #expect(expansion.expand("${A:-fallback}") == .success("1"))
        #expect(expansion.expand("${MISSING}") == .failure(.unset(name: "MISSING")))
        #expect(expansion.expand("${A") == .failure(.unterminated))
        #expect(expansion.expand("${1A}") == .failure(.badName("1A")))
        #expect(expansion.expand("no variables $A") == .success("no variables $A"))
    }

    static let brokenConfigs: [(yaml: String, expected: [String])] = [
        ("projects:\n  - {id: 1, slug: a, keys: [\"${NOPE}\"]}\n",
         ["herald.yaml:2:29: error: environment variable NOPE is not set (write ${NOPE:-default} to give a default)"]),
        ("projects:\n  - {id: 1, slug: a}\n  - {id: 1, slug: a}\n",
         ["herald.yaml:3:5: error: project slug 'a' is defined more than once",
          "herald.yaml:3:5: error: project id '1' is defined more than once"]),
        ("projects:\n  - {id: x, slug: a}\n", ["herald.yaml:2:10: error: 'id' must be a whole number, not 'x'"]),
        ("projects:\n  - {id: 1, slug: Payments}\n",
         ["herald.yaml:2:19: error: project slug 'Payments' must be lowercase letters, digits, '-' and '_'"]),
        ("projects: []\nslak: {}\n",
         ["herald.yaml:2:1: error: unknown key 'slak' in the config; allowed: projects, slack, mattermost, webhooks, users, server, storage, delivery, admin_token, regex, console, scrubbing; did you mean 'slack'?"]),
        ("projects: []\nwebhooks:\n  - {name: w, url: ftp://x}\n",
         ["herald.yaml:3:20: error: 'url' must be an http or https URL, not 'ftp://x'"]),
        ("projects: []\nmattermost:\n  - {name: m, url: https://mm.example.com}\n",
         ["herald.yaml:3:5: error: Mattermost connector 'm' needs a 'token' (bot REST API) or a 'webhook_url'"]),
        ("projects: []\nmattermost:\n  - {name: m, url: https://mm.example.com, token: t, button_lifetime_hours: 1e300,\n     action_sources: [10.0.0.0/33, mm.example.com, 192.0.2.1]}\n",
         ["herald.yaml:3:77: error: 'button_lifetime_hours' must be a whole number, not '1e300'",
          "herald.yaml:4:23: error: '10.0.0.0/33' in 'action_sources' is not an IP address or a CIDR network like 10.0.0.0/8",
          "herald.yaml:4:36: error: 'mm.example.com' in 'action_sources' is not an IP address or a CIDR network like 10.0.0.0/8"]),
        ("projects: []\nusers:\n  - {email: a@example.com, role: owner}\n",
         ["herald.yaml:3:34: error: unknown role 'owner'; allowed: admin, member, stakeholder"]),
        ("projects: []\nslack:\n  workspaces:\n    - {name: a}\n",
         ["herald.yaml:4:7: error: Slack workspace is missing the required key 'token'"]),
        ("projects: [\n", ["herald.yaml:2:1: error: YAML syntax: did not find expected node content"]),
        ("projects: []\nserver: {port: 70000, max_body_bytes: 10}\n",
         ["herald.yaml:2:16: error: 'port' must be between 0 and 65535, not 70000",
          "herald.yaml:2:39: error: 'max_body_bytes' must be between 1024 and 268435456, not 10"]),
        ("projects: []\nserver: {header_timeout_seconds: 0, idle_timeout_seconds: 1e300}\n",
         ["herald.yaml:2:34: error: 'header_timeout_seconds' must be between 0.1 and 3600, not 0",
          "herald.yaml:2:59: error: 'idle_timeout_seconds' must be between 0.1 and 3600, not 1e300"]),
        ("projects: []\nstorage: {sqlite: x.db, events_per_issue: 0, keep: 3}\n",
         ["herald.yaml:2:43: error: 'events_per_issue' must be between 1 and 100000, not 0",
          "herald.yaml:2:46: error: unknown key 'keep' in storage; allowed: sqlite, events_per_issue, retention_days"]),
    ]

    @Test(arguments: brokenConfigs.indices)
    func rejectsBrokenConfigWithExactLocations(_ index: Int) {
        let (yaml, expected) = Self.brokenConfigs[index]
        do {
            _ = try ConfigLoader(environment: [:]).load(text: yaml, file: "herald.yaml")
            Issue.record("accepted \(yaml)")
        } catch {
            #expect(error.all.map(\.description) == expected)
        }
    }

    @Test func readsTheServerSettingsWithDefaults() throws {
        let config = try ConfigLoader(environment: [:]).load(text: """
            projects: []
            server: {host: 0.0.0.0, port: 9000}
            storage: {events_per_issue: 10}
            admin_token: secret
            """, file: "herald.yaml")
        #expect(config.server.host == "0.0.0.0")
        #expect(config.server.port == 9000)
        #expect(config.server.publicURL == "http://localhost:9000")
        #expect(config.server.maxBodyBytes == 1 << 20)
        #expect(config.storage.sqlite == "data/herald.sqlite")
        #expect(config.storage.eventsPerIssue == 10)
        #expect(config.storage.retentionDays == 30)
        #expect(config.adminToken?.value == "secret")
        #expect("\(config.adminToken!)" == "<redacted>")
    }

    @Test func suggestsTheClosestName() {
        #expect(closestMatch(to: "chanels", among: ["channels", "tags"]) == "channels")
        #expect(closestMatch(to: "zzz", among: ["channels", "tags"]) == nil)
        #expect(closestMatch(to: "tags", among: ["tags"]) == nil)  // an exact name needs no suggestion
    }

    @Test func addressRangesMatchByPrefix() throws {
        let network = try #require(AddressRange("10.1.0.0/16"))
        #expect(network.contains("10.1.200.3"))
        #expect(!network.contains("10.2.0.1"))
        #expect(network.contains("::ffff:10.1.0.9"))
        #expect(!network.contains("fe80::1"))
        #expect(!network.contains("not an address"))
        let odd = try #require(AddressRange("192.0.2.128/25"))
        #expect(odd.contains("192.0.2.200") && !odd.contains("192.0.2.127"))
        let v6 = try #require(AddressRange("2001:db8::/32"))
        #expect(v6.contains("2001:db8:ffff::1") && !v6.contains("2001:db9::1"))
        #expect(try #require(AddressRange("0.0.0.0/0")).contains("203.0.113.9"))
        #expect(try #require(AddressRange("127.0.0.1")).description == "127.0.0.1")
        for bad in ["10.0.0.0/33", "10.0.0.0/-1", "10.0.0/8", "::/129", "", "/8", "10.0.0.0/08x", String(repeating: "1", count: 100)] {
            #expect(AddressRange(bad) == nil, "\(bad)")
        }
    }
}
