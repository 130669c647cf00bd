import Crypto
import Foundation
import HeraldChat
import HeraldConfig
import HeraldCore
import Testing

func sampleIssue(status: IssueStatus = .unresolved, title: String = "ValueError: card declined") -> HeraldCore.Issue {
    HeraldCore.Issue(
        id: 42, projectID: 1, number: 7, shortID: "PAYMENTS-7", fingerprint: "f", title: title,
        culprit: "billing.charge in capture", level: .error, status: status, substatus: .new,
        firstSeen: Date(timeIntervalSince1970: 1_763_892_000), lastSeen: Date(timeIntervalSince1970: 1_763_895_600),
        timesSeen: 12, usersSeen: 3, lastRelease: "1.4.2", assignee: nil, ignore: nil, resolution: nil,
        regressedAt: nil)
}

let people = [
    Config.User(email: "alice@example.com", name: "Alice", role: .admin),
    Config.User(email: "bob@example.com", name: "Bob", role: .member),
]

func sampleAlert(issue: HeraldCore.Issue = sampleIssue(), event: Event? = nil, tags: [String] = ["region", "customer"]) -> AlertMessage {
    let event = event ?? Event(
        level: .error, release: "1.4.2", environment: "production", message: "Card 4242 declined <for> order & more",
        tags: [Event.Tag("region", "eu")])
    return AlertMessage(
        issue: issue, event: event, eventID: "abc", project: "payments", rules: ["Payment failures"], tags: tags,
        notes: ["Runbook: https://wiki.example/payments"], publicURL: "https://herald.example.com", assignees: people)
}

/// Every string in a JSON-like tree, with the key it sits under.
func strings(_ value: Any, key: String = "") -> [(key: String, value: String)] {
    switch value {
    case let text as String: return [(key, text)]
    case let object as [String: any Sendable]: return object.flatMap { strings($0.value, key: $0.key) }
    case let array as [any Sendable]: return array.flatMap { strings($0, key: key) }
    case let array as [[String: any Sendable]]: return array.flatMap { strings($0, key: key) }
    default: return []
    }
}

/// The texts of sections, fields and contexts: the ones Slack reads as mrkdwn.
func mrkdwnTexts(_ blocks: [[String: any Sendable]]) -> [String] {
    blocks.flatMap { block -> [String] in
        var objects: [[String: any Sendable]] = []
        if let text = block["text"] as? [String: any Sendable] { objects.append(text) }
        objects += block["fields"] as? [[String: any Sendable]] ?? []
        if block["type"] as? String == "context" { objects += block["elements"] as? [[String: any Sendable]] ?? [] }
        return objects.filter { $0["type"] as? String == "mrkdwn" }.compactMap { $0["text"] as? String }
    }
}

@Suite struct SlackMessageTests {
    @Test func showsTheIssueItsTagsAndEscapesText() throws {
        let message = SlackMessage.alert(sampleAlert())
        let json = try #require(try JSONSerialization.jsonObject(with: Data(message.postBody(channel: "#payments"))) as? [String: Any])
        #expect(json["channel"] as? String == "#payments")
        #expect(json["text"] as? String == "[ERROR] PAYMENTS-7: ValueError: card declined — billing.charge in capture (payments/production)")
        let texts = strings(message.blocks).map(\.value)
        #expect(texts.contains(":red_circle: *<https://herald.example.com/issues/42|ValueError: card declined>*\n`billing.charge in capture`"))
        #expect(texts.contains("```Card 4242 declined &lt;for&gt; order &amp; more```"))
        #expect(texts.contains("*region*\neu"))
        #expect(texts.contains("*customer*\n—"))
        #expect(texts.contains("*Release*\n1.4.2"))
        #expect(texts.contains { $0.hasPrefix("*Events:* 12   *Users:* 3   *First seen:* <!date^1763892000^") })
        #expect(texts.contains(":memo: Runbook: https://wiki.example/payments"))
        #expect(texts.contains("Rule: Payment failures · PAYMENTS-7 · Herald"))
    }

    @Test func resolvedAndIgnoredIssuesSwapTheirButtons() {
        func actionIDs(_ status: IssueStatus) -> [String] {
            let blocks = SlackMessage.alert(sampleAlert(issue: sampleIssue(status: status))).blocks
            let actions = blocks.first { $0["type"] as? String == "actions" }
            return (actions?["elements"] as? [[String: any Sendable]] ?? []).compactMap { $0["action_id"] as? String }
        }
        #expect(actionIDs(.unresolved) == ["resolve", "ignore", "assign", "ack", "more"])
        #expect(actionIDs(.resolved) == ["unresolve", "ignore", "assign", "ack"])
        #expect(actionIDs(.ignored) == ["resolve", "unignore", "assign", "ack", "more"])
    }

    @Test func hugeValuesAreCutToBlockKitLimitsNeverRefused() {
        let long = String(repeating: "é<&>x", count: 5_000)
        var tags = (0..<60).map { "tag\($0)" }
        tags.append(long)
        let event = Event(
            level: .fatal, release: long, environment: long, message: long,
            tags: tags.map { Event.Tag($0, long) })
        var many = people
        for number in 0..<150 { many.append(Config.User(email: "user\(number)@example.com", name: long, role: .member)) }
        let alert = AlertMessage(
            issue: sampleIssue(title: long), event: event, eventID: long, project: "payments", rules: [long, long],
            tags: tags, notes: [long], publicURL: "https://herald.example.com", assignees: many)
        for message in [SlackMessage.alert(alert), SlackMessage.reply(alert)] {
            #expect(message.text.utf16.count <= SlackMessage.Limit.fallbackText)
            #expect(message.blocks.count <= SlackMessage.Limit.blocks)
            for block in message.blocks {
                if let text = (block["text"] as? [String: any Sendable])?["text"] as? String {
                    #expect(text.utf16.count <= SlackMessage.Limit.sectionText)
                }
                let fields = block["fields"] as? [[String: any Sendable]] ?? []
                #expect(fields.count <= SlackMessage.Limit.fields)
                for field in fields { #expect((field["text"] as? String ?? "").utf16.count <= SlackMessage.Limit.fieldText) }
                for element in block["elements"] as? [[String: any Sendable]] ?? [] {
                    if let label = (element["text"] as? [String: any Sendable])?["text"] as? String, element["type"] as? String == "button" {
                        #expect(label.utf16.count <= SlackMessage.Limit.buttonText)
                    }
                    let options = element["options"] as? [[String: any Sendable]] ?? []
                    #expect(options.count <= SlackMessage.Limit.options)
                    for option in options {
                        #expect((option["value"] as? String ?? "").utf16.count <= SlackMessage.Limit.optionValue)
                        let label = (option["text"] as? [String: any Sendable])?["text"] as? String ?? ""
                        #expect(label.utf16.count <= SlackMessage.Limit.optionText)
                    }
                }
            }
            // A cut never leaves half an escape behind, and text is escaped wherever it is markup.
            for text in mrkdwnTexts(message.blocks) {
                #expect(!text.contains(where: { $0 == "<" }) || text.contains("<https://") || text.contains("<!date"))
                #expect(text.range(of: #"&(a|am|l|g|lt|gt)?…"#, options: .regularExpression) == nil)
            }
        }
    }

    @Test func fittingCountsUTF16AndKeepsWholeCharacters() {
        #expect("short".fitted(to: 10) == "short")
        #expect("abcdefghij".fitted(to: 5) == "abcd…")
        #expect("👍👍👍".fitted(to: 4) == "👍…")
        #expect("a & b & c".slackFitted(to: 8) == "a &amp;…")
        #expect("a & b & c".slackFitted(to: 7) == "a …")
        #expect("a & b".slackFitted(to: 5) == "a …")
    }
}

@Suite struct IssueActionTests {
    static let all: [IssueAction] = [
        .resolve, .resolveInNextRelease, .unresolve, .ignore(.duration(seconds: 1_800)), .ignore(.moreEvents(100)),
        .ignore(.forever), .assign(email: "alice@example.com"), .unassign, .acknowledge,
    ]

    @Test func theLongestIgnoresAreAccepted() {
        #expect(IssueAction("ignore:315360000s") == .ignore(.duration(seconds: IssueAction.maxIgnoreSeconds)))
        #expect(IssueAction("ignore:1000000000events") == .ignore(.moreEvents(IssueAction.maxIgnoreEvents)))
    }

    @Test(arguments: all)
    func valuesRoundTrip(_ action: IssueAction) throws {
        let parsed = try #require(IssueAction.parse(value: action.value(issue: 42)))
        #expect(parsed.issue == 42)
        #expect(parsed.action == action)
    }

    @Test(arguments: [
        "", "42", "42:", "x:resolve", "42:explode", "42:ignore:0s", "42:ignore:-5events", "42:assign:",
        "42:ignore:315360001s", "42:ignore:9223372036854775807s", "42:ignore:99999999999999999999s",
        "42:ignore:1000000001events", "42:ignore:9223372036854775807events", "99999999999999999999:resolve",
    ])
    func malformedValuesAreRejected(_ value: String) {
        #expect(IssueAction.parse(value: value) == nil)
    }
}

@Suite struct MattermostMessageTests {
    @Test func buttonsCarryAContextSignedWithTheServerKey() throws {
        let key = Array("0123456789abcdef0123456789abcdef".utf8)
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let message = MattermostMessage.alert(
            sampleAlert(), actionsURL: "https://herald.example.com/mattermost/actions", signer: ButtonSigner(key: key),
            connector: "ops", now: now)
        let actions = try #require(message.attachment["actions"] as? [[String: any Sendable]])
        #expect(actions.compactMap { $0["id"] as? String } == ["resolve", "ignore", "assign", "ack", "resolvenext"])
        for action in actions {
            let id = try #require(action["id"] as? String)
            #expect(id.allSatisfy { $0.isLetter || $0.isNumber })
            let integration = try #require(action["integration"] as? [String: any Sendable])
            let context = try #require(integration["context"] as? [String: any Sendable])
            let family = try #require(context["action"] as? String).split(separator: ":").first.map(String.init)!
            #expect(context["connector"] as? String == "ops")
            let expires = try #require(context["expires"] as? Int64)
            let nonce = try #require(context["nonce"] as? String)
            #expect(expires == Int64(now.timeIntervalSince1970) + 30 * 86_400)
            #expect(nonce.count == 24)
            let expected = HMAC<SHA256>.authenticationCode(
                for: Data("v2:42:\(family):ops:\(expires):\(nonce)".utf8), using: SymmetricKey(data: key))
                .map { String(format: "%02x", $0) }.joined()
            #expect(context["signature"] as? String == expected)
            let stamp = ButtonSigner.Stamp(expires: expires, nonce: nonce)
            let signer = ButtonSigner(key: key)
            #expect(signer.verify(issue: 42, family: family, connector: "ops", stamp: stamp, signature: expected))
            #expect(!signer.verify(issue: 43, family: family, connector: "ops", stamp: stamp, signature: expected))
            #expect(!signer.verify(issue: 42, family: family, connector: "other", stamp: stamp, signature: expected))
            var later = stamp
            later.expires += 1
            #expect(!signer.verify(issue: 42, family: family, connector: "ops", stamp: later, signature: expected))
            #expect(!signer.verify(
                issue: 42, family: family, connector: "ops", stamp: ButtonSigner.Stamp(expires: expires, nonce: "0"),
                signature: expected))
        }
        #expect((message.attachment["footer"] as? String ?? "").count <= MattermostMessage.footerLimit)
        let fields = message.attachment["fields"] as? [[String: any Sendable]] ?? []
        #expect(fields.contains { $0["title"] as? String == "customer" && $0["value"] as? String == "—" })
    }

    @Test func webhookBodyNamesTheChannelWithoutItsSigil() throws {
        let message = MattermostMessage.alert(sampleAlert(), actionsURL: "https://h/mattermost/actions", signer: nil, connector: "ops")
        #expect(message.attachment["actions"] == nil)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(message.webhookBody(channel: "~town-square"))) as? [String: Any])
        #expect(body["channel"] as? String == "town-square")
    }
}

/// A rule that names environment or release among its tags shows each once: those fields are always there.
@Suite struct FieldOnceTests {
    @Test func environmentAndReleaseAreShownOnce() throws {
        let alert = sampleAlert(tags: ["environment", "Release", "region", "region", "project"])
        #expect(alert.tags.map(\.key) == ["region"])
        let slack = String(decoding: SlackMessage.alert(alert).postBody(channel: "#x"), as: UTF8.self)
        #expect(slack.lowercased().components(separatedBy: "*environment*").count - 1 == 1, "\(slack)")
        #expect(slack.lowercased().components(separatedBy: "*release*").count - 1 == 1, "\(slack)")
    }
}
