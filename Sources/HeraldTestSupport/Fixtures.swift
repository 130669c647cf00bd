import Foundation
import HeraldConfig
import HeraldRules

/// The config and rule file from the rule-language issue, verbatim, which Herald must accept as they stand.
public enum Fixtures {
    public static let configYAML = """
        projects:
          - {id: 1, slug: payments, keys: ["${PAYMENTS_KEY}"]}
          - {id: 2, slug: web, keys: ["${WEB_KEY}"]}
        slack:
          signing_secret: ${SLACK_SIGNING_SECRET}
          workspaces:
            - {name: acme,   token: ${SLACK_ACME_TOKEN},   api_url: https://slack.com/api}
            - {name: globex, token: ${SLACK_GLOBEX_TOKEN}}
        mattermost:
          - {name: ops, url: https://mm.example.com, token: ${MM_TOKEN}, webhook_url: ${MM_WEBHOOK}}
        webhooks:
          - {name: pager, url: https://events.example.com/herald}
        users:
          - {email: alice@example.com, name: Alice, role: admin}      # roles: admin | member | stakeholder

        """

    public static let environment = [
        "PAYMENTS_KEY": "pk-1", "WEB_KEY": "wk-2", "SLACK_SIGNING_SECRET": "signing", "SLACK_ACME_TOKEN": "xoxb-acme",
        "SLACK_GLOBEX_TOKEN": "xoxb-globex", "MM_TOKEN": "mm-token", "MM_WEBHOOK": "https://mm.example.com/hooks/x",
    ]

    public static let rulesYAML = """
        project: payments                 # a project slug from the config
        rules:
          - name: New errors in production
            environment: production       # optional gate
            when:                         # triggers; a plain list means any-of; also `any:`/`all:`/`none:`
              - first_seen
              - regression
              - frequency: {count: 100, interval: 1h}
            if:                           # filters; a plain list means all-of; groups nest freely
              - level: {gte: error}
              - tag: {key: customer_tier, eq: enterprise}
              - attribute: {name: exception.type, matches: "^(Timeout|Deadline)"}
              - any:
                  - tag: {key: region, in: [eu-west-1, eu-central-1]}
                  - attribute: {name: http.url, contains: /checkout}
            frequency: 30m                # action interval per issue (default 30m, 1m … 30d)
            then:
              - slack:
                  workspace: acme
                  channels: ["#payments", "#oncall"]
                  tags: [environment, release, customer_tier]
                  notes: "Runbook: https://wiki.example/payments"
              - slack: {workspace: globex, channels: ["#team-{{ tags.team }}"]}   # channel taken from a tag
              - mattermost: {connector: ops, channels: [town-square]}
              - webhook: {name: pager}

        """

    public static func config() -> Config {
        try! ConfigLoader(environment: environment).load(text: configYAML, file: "herald.yaml")
    }

    /// Loads rule files given as text against the example config.
    public static func load(_ files: [(path: String, text: String)]) throws(Diagnostics) -> RuleSet {
        try RuleLoader(config: config()).load(files: files)
    }

    /// Loads one rule file given as text against the example config.
    public static func load(_ text: String, path: String = "rules.yaml") throws(Diagnostics) -> RuleSet {
        try load([(path, text)])
    }
}

/// A directory under the system's temporary directory, removed when the test is done with it.
public final class TemporaryDirectory: Sendable {
    public let path: String

    public init() {
        path = NSTemporaryDirectory() + "herald-test-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Writes a file below the directory, creating folders, and returns its path.
    @discardableResult
    public func write(_ relativePath: String, _ text: String) -> String {
        let full = path + "/" + relativePath
        try! FileManager.default.createDirectory(
            atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try! text.write(toFile: full, atomically: true, encoding: .utf8)
        return full
    }
}
