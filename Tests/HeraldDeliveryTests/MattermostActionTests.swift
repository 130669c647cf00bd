import Foundation
import HeraldChat
import HeraldCore
import HeraldStore
import HeraldTestSupport
import Testing

@Suite struct MattermostActionTests {
    /// The contexts of the buttons and menus on Herald's Mattermost post, by action id.
    func contexts(_ harness: Harness) throws -> [String: [String: Any]] {
        let post = try #require(harness.chat.messages.first { $0.workspace == "ops" && $0.threadRef == nil })
        let attachment = try #require(((post.json["props"] as? [String: Any])?["attachments"] as? [[String: Any]])?.first)
        var result: [String: [String: Any]] = [:]
        for action in attachment["actions"] as? [[String: Any]] ?? [] {
            result[action["id"] as? String ?? ""] = (action["integration"] as? [String: Any])?["context"] as? [String: Any]
        }
        return result
    }

    /// A click as Mattermost sends it to the integration URL.
    func click(_ harness: Harness, user: String, context: [String: Any], choice: String? = nil) async throws -> HTTPTestResponse {
        var context = context
        if let choice { context["selected_option"] = choice }
        let post = harness.chat.messages.first { $0.workspace == "ops" && $0.threadRef == nil }
        let body: [String: Any] = [
            "user_id": user, "user_name": user, "channel_id": post?.channelID ?? "c", "channel_name": "incidents",
            "team_id": "t", "team_domain": "ops", "post_id": post?.ref ?? "p", "trigger_id": UUID().uuidString,
            "type": choice == nil ? "" : "select", "context": context,
        ]
        let json = String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self)
        return try await harness.server.send(HTTPTestRequest("POST", "/mattermost/actions", json: json))
    }

    @Test func aSignedClickActsAndEveryMessageFollows() async throws {
        let harness = try await Harness.start(rules: ActionTests.rules)
        try await harness.send()
        _ = try await harness.settled()
        let contexts = try contexts(harness)

        let ignored = try await click(harness, user: "mmbob", context: try #require(contexts["ignore"]), choice: "ignore:1800s")
        #expect(ignored.status == 200, "\(ignored.text)")
        #expect(ignored.json["ephemeral_text"] as? String == "PAYMENTS-1: Ignored for 30 minutes by Bob via Mattermost.")
        #expect(try await harness.store.issue("PAYMENTS-1")?.status == .ignored)

        let resolved = try await click(harness, user: "mmalice", context: try #require(contexts["resolve"]))
        #expect(resolved.json["ephemeral_text"] as? String == "PAYMENTS-1: Resolved by Alice via Mattermost.")
        // The clicked post is rewritten by the answer itself.
        let update = try #require(resolved.json["update"] as? [String: Any])
        let attachment = try #require(((update["props"] as? [String: Any])?["attachments"] as? [[String: Any]])?.first)
        #expect((attachment["text"] as? String)?.contains("**Resolved · Resolved by Alice via Mattermost**") == true)
        #expect((attachment["actions"] as? [[String: Any]])?.first?["id"] as? String == "unresolve")
        try await eventually("every message shows the resolve") {
            harness.chat.messages.filter { $0.threadRef == nil && $0.updates == 2 }.count == 3
        }
        let slack = try #require(harness.chat.messages.first { $0.workspace == "acme" && $0.threadRef == nil })
        #expect(slack.blockTexts.contains("*Resolved · Resolved by Alice via Mattermost*"))

        let again = try await click(harness, user: "mmalice", context: try #require(contexts["resolve"]))
        #expect(again.json["ephemeral_text"] as? String == "PAYMENTS-1 is already resolved; nothing changed.")
        try await harness.stop()
    }

    @Test func forgedContextsAndUnknownOrReadOnlyPeopleChangeNothing() async throws {
        let harness = try await Harness.start(rules: ActionTests.rules)
        try await harness.send()
        _ = try await harness.settled()
        let contexts = try contexts(harness)
        let resolve = try #require(contexts["resolve"])

        var forged = resolve
        forged["signature"] = String(repeating: "0", count: 64)
        #expect(try await click(harness, user: "mmalice", context: forged).status == 401)
        var otherIssue = resolve
        otherIssue["issue_id"] = 999
        #expect(try await click(harness, user: "mmalice", context: otherIssue).status == 401)
        var otherAction = resolve
        otherAction["action"] = "unresolve"
        #expect(try await click(harness, user: "mmalice", context: otherAction).status == 401)
        // A menu's choice must be of the family its context signs.
        let wrongFamily = try await click(harness, user: "mmalice", context: try #require(contexts["ignore"]), choice: "resolve")
        #expect(wrongFamily.json["ephemeral_text"] as? String == "Herald does not know that choice.")

        let stakeholder = try await click(harness, user: "mmcarol", context: resolve)
        #expect(stakeholder.json["ephemeral_text"] as? String == "You are a stakeholder in Herald: you can follow issues, but not change them.")
        let stranger = try await click(harness, user: "mmeve", context: resolve)
        #expect((stranger.json["ephemeral_text"] as? String)?.contains("Mattermost gives your email as eve@example.com") == true)
        let missing = try await click(harness, user: "mmnobody", context: resolve)
        #expect((missing.json["ephemeral_text"] as? String)?.contains("does not show Herald your email") == true)

        #expect(try await harness.store.issue("PAYMENTS-1")?.status == .unresolved)
        let issue = try #require(try await harness.store.issue("PAYMENTS-1"))
        #expect(try await harness.store.actions(issue: issue.id).isEmpty)
        try await harness.stop()
    }
}
