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
    func click(
        _ harness: Harness, user: String, context: [String: Any], choice: String? = nil, postID: String? = nil,
        triggerID: String? = UUID().uuidString
    ) async throws -> HTTPTestResponse {
        var context = context
        if let choice { context["selected_option"] = choice }
        let post = harness.chat.messages.first { $0.workspace == "ops" && $0.threadRef == nil }
        var body: [String: Any] = [
            "user_id": user, "user_name": user, "channel_id": post?.channelID ?? "c", "channel_name": "incidents",
            "team_id": "t", "team_domain": "ops", "post_id": postID ?? post?.ref ?? "p",
            "type": choice == nil ? "" : "select", "context": context,
        ]
        body["trigger_id"] = triggerID
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

        // The clicked post's buttons were rendered anew; a second click on the old ones counts as the first.
        let again = try await click(harness, user: "mmalice", context: try #require(contexts["resolve"]))
        #expect(again.json["ephemeral_text"] as? String == "PAYMENTS-1: already done.")
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

    /// The issue's audit trail: what changed it, and how often.
    func actions(_ harness: Harness) async throws -> [String] {
        let issue = try #require(try await harness.store.issue("PAYMENTS-1"))
        return try await harness.store.actions(issue: issue.id).map(\.action)
    }

    @Test func aReplayedClickActsOnceWhateverItsTriggerID() async throws {
        let harness = try await Harness.start(rules: ActionTests.rules)
        try await harness.send()
        _ = try await harness.settled()
        let resolve = try #require(try contexts(harness)["resolve"])
        #expect(try await click(harness, user: "mmalice", context: resolve, triggerID: nil).status == 200)
        #expect(try await harness.store.issue("PAYMENTS-1")?.status == .resolved)
        // Someone reopens it; the old request, replayed with no trigger_id or a new one, does nothing.
        let issue = try #require(try await harness.store.issue("PAYMENTS-1"))
        let reopened = try await harness.server.send(HTTPTestRequest(
            "POST", "/api/v1/issues/\(issue.id)/actions", headers: [("Authorization", "Bearer \(RunningServer.adminToken)")],
            json: #"{"action": "unresolve", "by": "alice@example.com"}"#))
        #expect(reopened.status == 200, "\(reopened.text)")
        for trigger in [nil, "another-trigger", UUID().uuidString] {
            let replay = try await click(harness, user: "mmalice", context: resolve, triggerID: trigger)
            #expect(replay.json["ephemeral_text"] as? String == "PAYMENTS-1: already done.")
        }
        #expect(try await harness.store.issue("PAYMENTS-1")?.status == .unresolved)
        let trail = try await actions(harness)
        #expect(trail.count == 2, "\(trail)")
        try await harness.stop()
    }

    @Test func expiredButtonsChangeNothing() async throws {
        let harness = try await Harness.start(rules: ActionTests.rules)
        try await harness.send()
        _ = try await harness.settled()
        var resolve = try #require(try contexts(harness)["resolve"])
        // Signed with the server's own key, so only the expiry is wrong.
        let signer = ButtonSigner(key: try harness.store.callbackKey())
        let stamp = ButtonSigner.Stamp(expires: Int64(Date().timeIntervalSince1970) - 60, nonce: "00ff00ff00ff00ff00ff00ff")
        let issue = try #require(try await harness.store.issue("PAYMENTS-1"))
        resolve["expires"] = stamp.expires
        resolve["nonce"] = stamp.nonce
        resolve["signature"] = signer.signature(issue: issue.id, family: "resolve", connector: "ops", stamp: stamp)
        let answer = try await click(harness, user: "mmalice", context: resolve)
        #expect(answer.status == 200)
        #expect((answer.json["ephemeral_text"] as? String)?.hasPrefix("These buttons have expired") == true)
        #expect(answer.json["update"] == nil)
        // Moving the expiry forward breaks the signature.
        resolve["expires"] = Int64(Date().timeIntervalSince1970) + 3_600
        #expect(try await click(harness, user: "mmalice", context: resolve).status == 401)
        #expect(try await harness.store.issue("PAYMENTS-1")?.status == .unresolved)
        #expect(try await actions(harness).isEmpty)
        try await harness.stop()
    }

    @Test func aClickMustNameAPostHeraldMadeForItsIssue() async throws {
        let harness = try await Harness.start(rules: ActionTests.rules)
        try await harness.send()
        try await harness.send("Timeout talking to the bank")
        _ = try await harness.settled()
        let resolve = try #require(try contexts(harness)["resolve"])
        let otherIssuePost = try #require(harness.chat.messages.last { $0.workspace == "ops" && $0.threadRef == nil })
        let firstPost = try #require(harness.chat.messages.first { $0.workspace == "ops" && $0.threadRef == nil })
        #expect(otherIssuePost.ref != firstPost.ref)
        for post in [otherIssuePost.ref, "made-up-post-id", ""] {
            let answer = try await click(harness, user: "mmalice", context: resolve, postID: post)
            #expect(answer.json["ephemeral_text"] as? String
                == "Herald does not know that button. It may come from an older version of Herald.")
        }
        #expect(try await harness.store.issue("PAYMENTS-1")?.status == .unresolved)
        #expect(try await actions(harness).isEmpty)
        try await harness.stop()
    }

    @Test func onlyChannelMembersAndOfferedChoicesAct() async throws {
        let harness = try await Harness.start(rules: ActionTests.rules)
        try await harness.send()
        _ = try await harness.settled()
        let contexts = try contexts(harness)
        // A valid IssueAction of the right family, but not one the menu offers.
        let odd = try await click(harness, user: "mmalice", context: try #require(contexts["ignore"]), choice: "ignore:1234s")
        #expect(odd.json["ephemeral_text"] as? String == "Herald does not know that choice.")
        let stranger = try await click(
            harness, user: "mmalice", context: try #require(contexts["assign"]), choice: "assign:mallory@example.com")
        #expect(stranger.json["ephemeral_text"] as? String == "Herald does not know that choice.")

        harness.chat.removeFromMattermostChannels("mmalice")
        let outsider = try await click(harness, user: "mmalice", context: try #require(contexts["resolve"]))
        #expect(outsider.json["ephemeral_text"] as? String == "Only members of this channel can act on its alerts.")
        harness.chat.script("members", .status(503))
        let unknown = try await click(harness, user: "mmbob", context: try #require(contexts["resolve"]))
        #expect((unknown.json["ephemeral_text"] as? String)?.hasPrefix("Herald could not check that you may do that") == true)
        #expect(harness.chat.requests(path: "/members/mmalice").count == 1)

        #expect(try await harness.store.issue("PAYMENTS-1")?.status == .unresolved)
        #expect(try await actions(harness).isEmpty)
        // A member still acts.
        let member = try await click(harness, user: "mmbob", context: try #require(contexts["resolve"]))
        #expect(member.json["ephemeral_text"] as? String == "PAYMENTS-1: Resolved by Bob via Mattermost.")
        try await harness.stop()
    }

    @Test func clicksFromOutsideTheActionSourcesAreRefused() async throws {
        let chat = try await RunningServer.chatDouble()
        let directory = TemporaryDirectory()
        for (sources, allowed) in [("[192.0.2.0/24, \"2001:db8::/32\"]", false), ("[10.0.0.0/8, 127.0.0.0/8]", true)] {
            let config = RunningServer.configYAML(
                directory: directory.path, extra: fastDelivery, chat: chat, mattermostOptions: ", action_sources: \(sources)")
            let server = try await RunningServer(rules: ["payments.yaml": ActionTests.rules], configYAML: config, directory: directory)
            let harness = Harness(chat: chat, server: server)
            if !allowed {
                try await harness.send()
                _ = try await harness.settled()
            }
            let answer = try await click(harness, user: "mmalice", context: try #require(try contexts(harness)["resolve"]))
            if allowed {
                #expect(answer.json["ephemeral_text"] as? String == "PAYMENTS-1: Resolved by Alice via Mattermost.")
            } else {
                #expect(answer.status == 403, "\(answer.text)")
                #expect(try await harness.store.issue("PAYMENTS-1")?.status == .unresolved)
            }
            try await server.stop()
        }
        try await chat.stop()
    }

    @Test func postsThroughAnIncomingWebhookCarryNoButtons() async throws {
        let chat = try await RunningServer.chatDouble()
        let directory = TemporaryDirectory()
        var config = RunningServer.configYAML(directory: directory.path, extra: fastDelivery, chat: chat)
        config = config.replacingOccurrences(
            of: "token: mm-token, team: ops", with: "webhook_url: \"\(chat.mattermostHookURL("h1"))\"")
        let server = try await RunningServer(rules: ["payments.yaml": ActionTests.rules], configYAML: config, directory: directory)
        let harness = Harness(chat: chat, server: server)
        try await harness.send()
        _ = try await harness.settled()
        let hook = try #require(chat.requests(path: "/mm/hooks/h1").first)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(hook.body)) as? [String: Any])
        let attachment = try #require((body["attachments"] as? [[String: Any]])?.first)
        #expect(attachment["actions"] == nil)
        try await harness.stop()
    }
}
