import Foundation
import HeraldTestSupport
import Testing

@testable import HeraldRules

@Suite struct SentryImportTests {
    /// A rule as Sentry's project rules API returns it.
    static let sentryRule = """
        {
          "id": "17", "name": "Checkout errors", "projects": ["payments"], "environment": "production",
          "actionMatch": "any", "filterMatch": "all", "frequency": 60, "owner": "team:4", "status": "active",
          "conditions": [
            {"id": "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition"},
            {"id": "sentry.rules.conditions.event_frequency.EventFrequencyCondition", "value": 100, "interval": "1h",
             "comparisonType": "count"},
            {"id": "sentry.rules.conditions.event_frequency.EventFrequencyCondition", "value": 50, "interval": "1h",
             "comparisonType": "percent", "comparisonInterval": "1w"},
            {"id": "sentry.rules.conditions.event_frequency.EventUniqueUserFrequencyCondition", "value": 20, "interval": "15m"}
          ],
          "filters": [
            {"id": "sentry.rules.filters.level.LevelFilter", "match": "gte", "level": "40"},
            {"id": "sentry.rules.filters.tagged_event.TaggedEventFilter", "key": "region", "match": "in", "value": "eu-west-1, eu-central-1"},
            {"id": "sentry.rules.filters.event_attribute.EventAttributeFilter", "attribute": "http.url", "match": "co", "value": "/checkout"},
            {"id": "sentry.rules.filters.tagged_event.TaggedEventFilter", "key": "beta", "match": "ns"},
            {"id": "sentry.rules.filters.age_comparison.AgeComparisonFilter", "comparison_type": "older", "value": 3, "time": "week"},
            {"id": "sentry.rules.filters.issue_occurrences.IssueOccurrencesFilter", "value": 120},
            {"id": "sentry.rules.filters.assigned_to.AssignedToFilter", "targetType": "Unassigned"},
            {"id": "sentry.rules.filters.latest_release.LatestReleaseFilter"},
            {"id": "sentry.rules.filters.issue_category.IssueCategoryFilter", "value": 1}
          ],
          "actions": [
            {"id": "sentry.integrations.slack.notify_action.SlackNotifyServiceAction", "workspace": "8812",
             "channel": "#payments", "channel_id": "C123", "tags": "environment,release", "notes": "See runbook"}
          ]
        }
        """

    @Test func convertsWhatHeraldCanExpressIntoAFileThatLoads() throws {
        let result = try SentryRuleImporter(workspaces: ["8812": "acme"]).convert(json: Data(Self.sentryRule.utf8))
        #expect(result.warnings.isEmpty)
        #expect(result.ruleCount == 1)
        let rule = try #require(try Fixtures.load(result.yaml).rules.first)
        #expect(rule.project == "payments")
        #expect(rule.name == "Checkout errors")
        #expect(rule.enabled)
        #expect(rule.environment == "production")
        #expect(rule.owner == "team:4")
        #expect(rule.actionInterval == TimeSpan(seconds: 3600))
        #expect(rule.triggers == .any([
            .leaf(.firstSeen), .leaf(.frequency(count: 100, interval: .oneHour)),
            .leaf(.frequencyChange(percent: 50, interval: .oneHour, comparedTo: .oneWeek)),
            .leaf(.uniqueUsers(count: 20, interval: .fifteenMinutes)),
        ]))
        #expect(rule.filters == .all([
            .leaf(.level(.gte, .error)),
            .leaf(.tag(key: "region", ValueMatch(.in, .list(["eu-west-1", "eu-central-1"])))),
            .leaf(.attribute(.httpURL, ValueMatch(.contains, .text("/checkout")))),
            .leaf(.tag(key: "beta", ValueMatch(.notSet, .none))),
            .leaf(.age(.olderThan, TimeSpan(seconds: 3 * 604_800))),
            .leaf(.occurrences(atLeast: 120)),
            .leaf(.assignedTo(.unassigned)),
            .leaf(.latestRelease),
        ]))
        #expect(rule.actions == [.slack(ChatAction(
            target: "acme", channels: [try ChannelTemplate(parsing: "#payments")], tags: ["environment", "release"],
            notes: "See runbook"))])
    }

    @Test func somethingHeraldCannotExpressDisablesTheRuleAndSaysWhy() throws {
        let json = """
            [{"name": "Mixed", "actionMatch": "all", "filterMatch": "any", "frequency": 5,
              "conditions": [{"id": "sentry.rules.conditions.every_event.EveryEventCondition"},
                             {"id": "sentry.rules.conditions.event_attribute.EventAttributeCondition",
                              "attribute": "platform", "match": "eq", "value": "python"}],
              "filters": [{"id": "sentry.rules.filters.assigned_to.AssignedToFilter", "targetType": "Member", "targetIdentifier": 9},
                          {"id": "sentry.rules.filters.level.LevelFilter", "match": "eq", "level": "50"}],
              "actions": [{"id": "sentry.integrations.slack.notify_action.SlackNotifyServiceAction", "workspace": "1", "channel": "#x"},
                          {"id": "sentry.mail.actions.NotifyEmailAction", "targetType": "IssueOwners"}]},
             {"name": "Email only", "actionMatch": "all",
              "conditions": [{"id": "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition"}],
              "actions": [{"id": "sentry.mail.actions.NotifyEmailAction"}]}]
            """
        let result = try SentryRuleImporter(project: "web", workspaces: ["1": "globex"]).convert(json: Data(json.utf8))
        #expect(result.ruleCount == 1)
        #expect(result.warnings == [
            "rule 1 ('Mixed'): assigned_to Member 9: Sentry names people and teams by id; write {user: email} or {team: name} cannot be expressed in Herald; the rule is written disabled until you finish it",
            "rule 1 ('Mixed'): action sentry.mail.actions.NotifyEmailAction has no Herald equivalent and was left out",
            "rule 2 ('Email only'): action sentry.mail.actions.NotifyEmailAction has no Herald equivalent and was left out",
            "rule 2 ('Email only'): left out: none of its actions is one Herald can perform",
        ])
        #expect(result.yaml.contains("# warning: rule 1 ('Mixed'): assigned_to Member 9"))
        let rule = try #require(try Fixtures.load(result.yaml).rules.first)
        #expect(!rule.enabled)
        #expect(rule.actionInterval == TimeSpan(seconds: 300))
        // The old-style attribute condition joins the filters, which Sentry's "any" over filters keeps grouped.
        #expect(rule.filters == .all([
            .any([.leaf(.level(.eq, .fatal))]),
            .leaf(.attribute(.platform, ValueMatch(.eq, .text("python")))),
        ]))
    }

    /// Numbers no Sentry export holds, each of which once reached a conversion that traps.
    @Test func hugeNumbersAreReportedNotTrapped() throws {
        let json = """
            [{"name": "Huge", "actionMatch": "any", "filterMatch": "all", "frequency": 1e300,
              "conditions": [{"id": "sentry.rules.conditions.first_seen_event.FirstSeenEventCondition"},
                             {"id": "sentry.rules.conditions.event_frequency.EventFrequencyCondition", "value": 1e300,
                              "interval": "1h", "comparisonType": "count"}],
              "filters": [{"id": "sentry.rules.filters.age_comparison.AgeComparisonFilter", "comparison_type": "older",
                           "value": 1e300, "time": "week"},
                          {"id": "sentry.rules.filters.issue_occurrences.IssueOccurrencesFilter", "value": "1e300"}],
              "actions": [{"id": "sentry.integrations.slack.notify_action.SlackNotifyServiceAction", "workspace": "1", "channel": "#x"}]}]
            """
        let result = try SentryRuleImporter(project: "web", workspaces: ["1": "globex"]).convert(json: Data(json.utf8))
        #expect(result.warnings.count == 4, "\(result.warnings)")
        #expect(result.warnings.contains { $0.contains("age filter older 1e+300") }, "\(result.warnings)")
        #expect(result.warnings.contains { $0.contains("frequency count 1e+300 (1 to 10⁹)") }, "\(result.warnings)")
        #expect(result.warnings.contains { $0.contains("occurrences filter with the value 1e300") }, "\(result.warnings)")
        let rule = try #require(try Fixtures.load(result.yaml).rules.first)
        #expect(!rule.enabled)
        #expect(rule.actionInterval == TimeSpan(seconds: 43_200 * 60))
    }

    @Test func rejectsInputThatIsNotRules() {
        #expect(throws: SentryRuleImporter.ImportError.self) {
            try SentryRuleImporter().convert(json: Data("not json".utf8))
        }
        #expect(throws: SentryRuleImporter.ImportError.self) {
            try SentryRuleImporter().convert(json: Data(#"{"name": "No project", "conditions": []}"#.utf8))
        }
    }
}
