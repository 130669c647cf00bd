import HeraldConfig
import HeraldCore
import HeraldTestSupport
import Testing

@testable import HeraldRules

@Suite struct RuleLoaderTests {
    @Test func acceptsTheIssueExampleAsItStands() throws {
        let ruleSet = try Fixtures.load(Fixtures.rulesYAML)
        #expect(ruleSet.rules.count == 1)
        let rule = try #require(ruleSet.rules.first)
        #expect(rule.project == "payments")
        #expect(rule.name == "New errors in production")
        #expect(rule.environment == "production")
        #expect(rule.actionInterval == TimeSpan(seconds: 1800))
        #expect(rule.triggers == .any([.leaf(.firstSeen), .leaf(.regression), .leaf(.frequency(count: 100, interval: .oneHour))]))
        let pattern = try Pattern("^(Timeout|Deadline)")
        #expect(rule.filters == .all([
            .leaf(.level(.gte, .error)),
            .leaf(.tag(key: "customer_tier", ValueMatch(.eq, .text("enterprise")))),
            .leaf(.attribute(.exceptionType, ValueMatch(.matches, .pattern(pattern)))),
            .any([
                .leaf(.tag(key: "region", ValueMatch(.in, .list(["eu-west-1", "eu-central-1"])))),
                .leaf(.attribute(.httpURL, ValueMatch(.contains, .text("/checkout")))),
            ]),
        ]))
        #expect(rule.actions == [
            .slack(ChatAction(target: "acme", channels: [try ChannelTemplate(parsing: "#payments"), try ChannelTemplate(parsing: "#oncall")],
                              tags: ["environment", "release", "customer_tier"], notes: "Runbook: https://wiki.example/payments")),
            .slack(ChatAction(target: "globex", channels: [try ChannelTemplate(parsing: "#team-{{ tags.team }}")])),
            .mattermost(ChatAction(target: "ops", channels: [try ChannelTemplate(parsing: "town-square")])),
            .webhook(name: "pager"),
        ])
        #expect(rule.location == SourceLocation(file: "rules.yaml", line: 3, column: 5))
    }

    @Test func readsSeveralProjectsGroupsAndShorthandsFromOneFile() throws {
        let ruleSet = try Fixtures.load("""
            projects:
              - project: payments
                rules:
                  - name: Any
                    enabled: false
                    owner: team:payments
                    when: {all: [every_event, {none: [regression]}]}
                    if: {any: [{level: fatal}, latest_release, {assigned_to: unassigned}]}
                    frequency: 1h30m
                    then: [{webhook: pager}]
              - project: web
                rules:
                  - name: Any
                    when: [reappeared]
                    if:
                      - age: {older_than: 2d}
                      - occurrences: {gte: 10}
                      - assigned_to: {user: alice@example.com}
                      - tag: {key: build, is_set: false}
                      - attribute: {name: http.status_code, gte: 500}
                      - attribute: {name: extra.order.id, not_in: ["1", "2"]}
                    then:
                      - slack: {workspace: acme, channels: ["#{{ project }}-{{ environment }}"]}
            """)
        #expect(ruleSet.rules.map(\.project) == ["payments", "web"])
        let first = ruleSet.rules[0], second = ruleSet.rules[1]
        #expect(!first.enabled)
        #expect(first.owner == "team:payments")
        #expect(first.actionInterval == TimeSpan(seconds: 5400))
        #expect(first.triggers == .all([.leaf(.everyEvent), .none([.leaf(.regression)])]))
        #expect(first.filters == .any([.leaf(.level(.eq, .fatal)), .leaf(.latestRelease), .leaf(.assignedTo(.unassigned))]))
        #expect(second.filters == .all([
            .leaf(.age(.olderThan, TimeSpan(seconds: 172_800))),
            .leaf(.occurrences(atLeast: 10)),
            .leaf(.assignedTo(.user(email: "alice@example.com"))),
            .leaf(.tag(key: "build", ValueMatch(.notSet, .none))),
            .leaf(.attribute(.httpStatusCode, ValueMatch(.gte, .number(500)))),
            .leaf(.attribute(.extra(path: "order.id"), ValueMatch(.notIn, .list(["1", "2"])))),
        ]))
    }

    @Test func readsEveryRuleFileBelowADirectoryInPathOrder() throws {
        let directory = TemporaryDirectory()
        directory.write("b.yml", "project: web\nrules:\n  - {name: B, when: [first_seen], then: [{webhook: pager}]}\n")
        directory.write("nested/a.yaml", "project: payments\nrules:\n  - {name: A, when: [first_seen], then: [{webhook: pager}]}\n")
        directory.write("notes.txt", "not a rule file")
        let ruleSet = try RuleLoader(config: Fixtures.config()).load(directory: directory.path)
        #expect(ruleSet.rules.map(\.name) == ["B", "A"])
        #expect(ruleSet.files == [directory.path + "/b.yml", directory.path + "/nested/a.yaml"])
        #expect(ruleSet.version.count == 16)

        directory.write("b.yml", "project: web\nrules: []\n")
        let changed = try RuleLoader(config: Fixtures.config()).load(directory: directory.path)
        #expect(changed.version != ruleSet.version)
    }

    /// Each broken file and the exact diagnostics it must produce.
    static let brokenFiles: [(name: String, yaml: String, expected: [String])] = [
        ("YAML syntax", "project: payments\nrules:\n  - name: [unclosed\n",
         ["rules.yaml:4:1: error: YAML syntax: did not find expected ',' or ']'"]),
        // Found by the `rules` fuzz target: a section of `projects` without `project` crashed the loader.
        ("a projects section without its project", "projects:\n  - rules: []\n",
         ["rules.yaml:2:5: error: project section is missing the required key 'project'"]),
        ("unknown top-level key", "project: payments\nrule: []\n",
         ["rules.yaml:1:1: error: a rule file needs 'project' and 'rules' (or 'projects' with a list of both)",
          "rules.yaml:2:1: error: unknown key 'rule' in rule file; allowed: project, rules, projects; did you mean 'rules'?"]),
        ("unknown rule key", rule("    whn: [first_seen]\n    when: [first_seen]\n    then: [{webhook: pager}]\n"),
         ["rules.yaml:4:5: error: unknown key 'whn' in rule; allowed: name, enabled, owner, environment, when, if, frequency, then; did you mean 'when'?"]),
        ("missing keys", "project: payments\nrules:\n  - name: R\n",
         ["rules.yaml:3:5: error: rule is missing the required key 'when'",
          "rules.yaml:3:5: error: rule is missing the required key 'then'"]),
        ("wrong type", rule("    when: [first_seen]\n    enabled: maybe\n    then: [{webhook: pager}]\n"),
         ["rules.yaml:5:14: error: 'enabled' must be true or false, not 'maybe'"]),
        ("rules not a list", "project: payments\nrules: {name: R}\n",
         ["rules.yaml:2:8: error: 'rules' must be a list, not a mapping"]),
        ("unknown project", "project: paymnets\nrules: []\n",
         ["rules.yaml:1:10: error: unknown project 'paymnets'; allowed: payments, web; did you mean 'payments'?"]),
        ("unknown trigger", rule("    when: [first_seem]\n    then: [{webhook: pager}]\n"),
         ["rules.yaml:4:12: error: unknown trigger 'first_seem'; allowed: first_seen, regression, reappeared, every_event, frequency, unique_users, frequency_change, any, all, none; did you mean 'first_seen'?"]),
        ("trigger without settings", rule("    when: [frequency]\n    then: [{webhook: pager}]\n"),
         ["rules.yaml:4:12: error: trigger 'frequency' needs {count, interval}"]),
        ("unknown interval", rule("    when: [{frequency: {count: 5, interval: 2h}}]\n    then: [{webhook: pager}]\n"),
         ["rules.yaml:4:45: error: unknown interval '2h' for 'interval'; allowed: 1m, 5m, 15m, 1h, 1d, 1w, 30d; did you mean '1h'?"]),
        ("bad count", rule("    when: [{unique_users: {count: many, interval: 1h}}]\n    then: [{webhook: pager}]\n"),
         ["rules.yaml:4:35: error: 'count' must be a whole number, not 'many'"]),
        ("empty when", rule("    when: []\n    then: [{webhook: pager}]\n"),
         ["rules.yaml:4:11: error: 'when' must name at least one trigger; allowed: first_seen, regression, reappeared, every_event, frequency, unique_users, frequency_change"]),
        ("unknown filter", rule("    when: [first_seen]\n    if: [{levle: {gte: error}}]\n    then: [{webhook: pager}]\n"),
         ["rules.yaml:5:11: error: unknown filter 'levle'; allowed: level, tag, attribute, age, occurrences, assigned_to, latest_release, any, all, none; did you mean 'level'?"]),
        ("unknown level", rule("    when: [first_seen]\n    if: [{level: {gte: critical}}]\n    then: [{webhook: pager}]\n"),
         ["rules.yaml:5:24: error: unknown level 'critical'; allowed: debug, info, warning, error, fatal"]),
        ("unknown level operator", rule("    when: [first_seen]\n    if: [{level: {atleast: error}}]\n    then: [{webhook: pager}]\n"),
         ["rules.yaml:5:19: error: unknown key 'atleast' in level filter; allowed: eq, ne, gt, gte, lt, lte"]),
        ("unknown operator", rule("    when: [first_seen]\n    if: [{tag: {key: region, equals: x}}]\n    then: [{webhook: pager}]\n"),
         ["rules.yaml:5:30: error: unknown key 'equals' in tag filter; allowed: key, eq, ne, starts_with, not_starts_with, ends_with, not_ends_with, contains, not_contains, in, not_in, is_set, not_set, matches, not_matches, gt, gte, lt, lte"]),
        ("two operators", rule("    when: [first_seen]\n    if: [{tag: {key: region, eq: x, ne: y}}]\n    then: [{webhook: pager}]\n"),
         ["rules.yaml:5:37: error: tag filter takes one operator, found eq and ne; use an 'all' group to combine them"]),
        ("tag without key", rule("    when: [first_seen]\n    if: [{tag: {eq: x}}]\n    then: [{webhook: pager}]\n"),
         ["rules.yaml:5:16: error: tag filter is missing the required key 'key'"]),
        ("unknown attribute", rule("    when: [first_seen]\n    if: [{attribute: {name: exception.kind, eq: x}}]\n    then: [{webhook: pager}]\n"),
         ["rules.yaml:5:29: error: unknown attribute 'exception.kind'; allowed: message, platform, environment, type, error.handled, error.unhandled, exception.type, exception.value, user.id, user.email, user.username, user.ip_address, http.method, http.url, http.status_code, sdk.name, stacktrace.code, stacktrace.module, stacktrace.filename, stacktrace.abs_path, stacktrace.package, extra.<path>; did you mean 'exception.type'?"]),
        ("in without list", rule("    when: [first_seen]\n    if: [{tag: {key: region, in: eu-west-1}}]\n    then: [{webhook: pager}]\n"),
         ["rules.yaml:5:34: error: 'in' must be a list, not 'eu-west-1'"]),
        ("invalid regex", rule("    when: [first_seen]\n    if: [{attribute: {name: message, matches: \"a(b\"}}]\n    then: [{webhook: pager}]\n"),
         ["rules.yaml:5:47: error: invalid regular expression: missing closing parenthesis (at offset 3 in the pattern)"]),
        ("catastrophic regex", rule("    when: [first_seen]\n    if: [{attribute: {name: message, matches: \"^(a+)+$\"}}]\n    then: [{webhook: pager}]\n"),
         ["rules.yaml:5:47: error: the regular expression backtracks catastrophically: on the 29-character subject \"aaaaaaaaaaaaaaaaaaaaaaaaaaaa!\" it takes over a million steps, and each character more doubles that; nested quantifiers such as (a+)+ or (a|aa)+ do this. Write a+ instead, or make the inner part possessive (a++) or atomic ((?>a+))"]),
        ("bad age duration", rule("    when: [first_seen]\n    if: [{age: {older_than: 3 days}}]\n    then: [{webhook: pager}]\n"),
         ["rules.yaml:5:29: error: '3 days' is not a duration; write a number and a unit, like 30m, 1h or 2d"]),
        ("bad frequency", rule("    when: [first_seen]\n    frequency: 45\n    then: [{webhook: pager}]\n"),
         ["rules.yaml:5:16: error: '45' is not a duration; write a number and a unit, like 30m, 1h or 2d"]),
        ("frequency out of range", rule("    when: [first_seen]\n    frequency: 31d\n    then: [{webhook: pager}]\n"),
         ["rules.yaml:5:16: error: 'frequency' must be between 1m and 30d, not 4w3d"]),
        ("unknown user", rule("    when: [first_seen]\n    if: [{assigned_to: {user: alise@example.com}}]\n    then: [{webhook: pager}]\n"),
         ["rules.yaml:5:31: error: unknown user 'alise@example.com'; allowed: alice@example.com; did you mean 'alice@example.com'?"]),
        ("empty then", rule("    when: [first_seen]\n    then: []\n"),
         ["rules.yaml:5:11: error: 'then' must name at least one action; allowed: slack, mattermost, webhook"]),
        ("unknown action", rule("    when: [first_seen]\n    then: [{email: {to: x}}]\n"),
         ["rules.yaml:5:13: error: unknown action 'email'; allowed: slack, mattermost, webhook"]),
        ("unknown workspace", rule("    when: [first_seen]\n    then: [{slack: {workspace: acmee, channels: [\"#x\"]}}]\n"),
         ["rules.yaml:5:32: error: unknown Slack workspace 'acmee'; allowed: acme, globex; did you mean 'acme'?"]),
        ("unknown connector", rule("    when: [first_seen]\n    then: [{mattermost: {connector: opz, channels: [x]}}]\n"),
         ["rules.yaml:5:37: error: unknown Mattermost connector 'opz'; allowed: ops; did you mean 'ops'?"]),
        ("unknown webhook", rule("    when: [first_seen]\n    then: [{webhook: {name: pagr}}]\n"),
         ["rules.yaml:5:29: error: unknown webhook 'pagr'; allowed: pager; did you mean 'pager'?"]),
        ("misspelt required key", rule("    when: [first_seen]\n    then: [{slack: {workspace: acme, chanels: [\"#x\"]}}]\n"),
         ["rules.yaml:5:38: error: unknown key 'chanels' in slack action; allowed: workspace, channels, tags, notes; did you mean 'channels'?"]),
        ("empty channels", rule("    when: [first_seen]\n    then: [{slack: {workspace: acme, channels: []}}]\n"),
         ["rules.yaml:5:48: error: 'channels' must name at least one channel"]),
        ("bad channel template", rule("    when: [first_seen]\n    then: [{slack: {workspace: acme, channels: [\"#{{ tag.team }}\"]}}]\n"),
         ["rules.yaml:5:49: error: unknown variable 'tag.team' in channel '#{{ tag.team }}'; allowed: tags.<key>, environment, project, level"]),
        ("two triggers in one item", rule("    when:\n      - {first_seen: true, regression: true}\n    then: [{webhook: pager}]\n"),
         ["rules.yaml:5:9: error: each trigger is its own list item; found first_seen, regression in one (put a '-' before each)"]),
        ("duplicate rule names",
         "project: payments\nrules:\n  - {name: Same, when: [first_seen], then: [{webhook: pager}]}\n  - {name: same, when: [regression], then: [{webhook: pager}]}\n",
         ["rules.yaml:4:12: error: rule name 'same' is already used in project 'payments' (at rules.yaml:3:5)"]),
        ("duplicate name of a broken rule",
         "project: payments\nrules:\n  - {name: Same, when: [first_seen], then: [{webhook: pager}]}\n  - {name: Same, when: [], then: [{webhook: pager}]}\n",
         ["rules.yaml:4:12: error: rule name 'Same' is already used in project 'payments' (at rules.yaml:3:5)",
          "rules.yaml:4:24: error: 'when' must name at least one trigger; allowed: first_seen, regression, reappeared, every_event, frequency, unique_users, frequency_change"]),
        ("duplicate key", rule("    when: [first_seen]\n    when: [regression]\n    then: [{webhook: pager}]\n"),
         ["rules.yaml:4:5: error: duplicate key 'when' (each key may appear once in a mapping)"]),
    ]

    static func rule(_ body: String) -> String { "project: payments\nrules:\n  - name: R\n" + body }

    @Test(arguments: brokenFiles.indices)
    func rejectsBrokenFileWithExactLocations(_ index: Int) {
        let (name, yaml, expected) = Self.brokenFiles[index]
        do {
            _ = try Fixtures.load(yaml)
            Issue.record("\(name): accepted a broken file")
        } catch {
            #expect(error.all.map(\.description) == expected, "\(name)")
        }
    }

    @Test func reportsProblemsFromEveryFileAtOnce() {
        do {
            _ = try Fixtures.load([
                ("a.yaml", "project: nope\nrules: []\n"),
                ("b.yaml", "project: web\nrules:\n  - {name: X, when: [first_seen], then: [{webhook: nope}]}\n"),
            ])
            Issue.record("accepted broken files")
        } catch {
            #expect(error.all.map(\.location.file) == ["a.yaml", "b.yaml"])
        }
    }
}
