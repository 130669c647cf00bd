import HeraldCore
import Foundation
import HeraldChat
import HeraldStore
import HeraldTestSupport
import Testing

/// Acting on an issue updates every message Herald posted for it, in every workspace and on Mattermost.
@Suite struct ActionTests {
    static let rules = """
        project: payments
        rules:
          - name: Payment failures
            when: [first_seen]
            then:
              - slack: {workspace: acme, channels: ["#payments"], tags: [region]}
              - slack: {workspace: globex, channels: ["#alerts"]}
              - mattermost: {connector: ops, channels: ["incidents"]}
        """

    func act(_ harness: Harness, _ body: String) async throws -> HTTPTestResponse {
        try await harness.server.send(HTTPTestRequest(
            "POST", "/api/v1/issues/PAYMENTS-1/actions",
            headers: [("Authorization", "Bearer \(RunningServer.adminToken)")], json: body))
    }

    @Test func anAdminAPIResolveUpdatesEveryMessageOnceAndRecordsWhoDidIt() async throws {
        let harness = try await Harness.start(rules: Self.rules)
        try await harness.send()
        _ = try await harness.settled()
        #expect(harness.chat.messageCount == 3)

        let resolved = try await act(harness, #"{"action": "resolve", "by": "alice@example.com"}"#)
        #expect(resolved.status == 200, "\(resolved.text)")
        #expect(resolved.json["outcome"] as? String == "changed")
        #expect(resolved.json["summary"] as? String == "Resolved by Alice via the admin API")
        #expect((resolved.json["issue"] as? [String: Any])?["status"] as? String == "resolved")
        let rows = try await harness.settled()
        #expect(rows.allSatisfy { $0.status == .delivered })
        #expect(rows.filter { $0.purpose == .update }.count == 3)
        #expect(rows.filter { $0.purpose == .note }.count == 3)
        let listed = try await harness.server.admin("/api/v1/deliveries?limit=1")
        #expect((listed.json["deliveries"] as? [[String: Any]])?.first?["purpose"] as? String == "note")

        let messages = harness.chat.messages
        let firsts = messages.filter { $0.threadRef == nil }
        let replies = messages.filter { $0.threadRef != nil }
        #expect(firsts.count == 3)
        #expect(firsts.allSatisfy { $0.updates == 1 })
        #expect(replies.count == 3)
        for reply in replies {
            let parent = try #require(firsts.first { $0.ref == reply.threadRef })
            #expect(parent.channelID == reply.channelID)
        }
        for message in firsts where message.workspace != "ops" {
            #expect(message.blockTexts.contains("*Resolved · Resolved by Alice via the admin API*"))
            #expect(message.actionElements.first?["action_id"] as? String == "unresolve")
            #expect(message.blockTexts.contains("*region*\neu") == (message.workspace == "acme"))
        }
        for reply in replies where reply.workspace != "ops" {
            #expect(reply.blockTexts == [":memo: Resolved by Alice via the admin API"])
        }
        let mattermost = try #require(firsts.first { $0.workspace == "ops" })
        let attachment = try #require(((mattermost.json["props"] as? [String: Any])?["attachments"] as? [[String: Any]])?.first)
        #expect((attachment["text"] as? String)?.contains("**Resolved · Resolved by Alice via the admin API**") == true)
        #expect((attachment["actions"] as? [[String: Any]])?.first?["id"] as? String == "unresolve")

        // Again: nothing changes, nothing is posted.
        let again = try await act(harness, #"{"action": "resolve", "by": "alice@example.com"}"#)
        #expect(again.json["outcome"] as? String == "unchanged")
        #expect(try await harness.deliveries().count == rows.count)

        let issue = try await harness.server.admin("/api/v1/issues/PAYMENTS-1")
        let actions = try #require(issue.json["actions"] as? [[String: Any]])
        #expect(actions.count == 1)
        #expect(actions.first?["by"] as? String == "Alice")
        #expect(actions.first?["email"] as? String == "alice@example.com")
        #expect(actions.first?["surface"] as? String == "the admin API")
        #expect(actions.first?["old_state"] as? String == "unresolved")
        #expect(actions.first?["new_state"] as? String == "resolved")
        try await harness.stop()
    }

    @Test func refusalsChangeNothing() async throws {
        let harness = try await Harness.start(rules: Self.rules)
        try await harness.send()
        _ = try await harness.settled()
        let cases: [(body: String, status: Int, field: String?)] = [
            (#"{"action": "resolve", "by": "carol@example.com"}"#, 403, "by"),
            (#"{"action": "resolve", "by": "mallory@example.com"}"#, 400, "by"),
            (#"{"action": "explode"}"#, 400, "action"),
            (#"{"action": "assign:mallory@example.com"}"#, 400, "action"),
            (#"{"by": "alice@example.com"}"#, 400, "action"),
            ("not json", 400, nil),
            // Numbers beyond the limits once killed the server when the ignore's end was turned into text.
            (#"{"action": "ignore:9223372036854775807s"}"#, 400, "action"),
            (#"{"action": "ignore:315360001s"}"#, 400, "action"),
            (#"{"action": "ignore:99999999999999999999s"}"#, 400, "action"),
            (#"{"action": "ignore:9223372036854775807events"}"#, 400, "action"),
        ]
        for (body, status, field) in cases {
            let response = try await act(harness, body)
            #expect(response.status == status, "\(body): \(response.text)")
            #expect(response.json["field"] as? String == field, "\(body)")
        }
        let unknown = try await harness.server.send(HTTPTestRequest(
            "POST", "/api/v1/issues/PAYMENTS-9/actions",
            headers: [("Authorization", "Bearer \(RunningServer.adminToken)")], json: #"{"action": "resolve"}"#))
        #expect(unknown.status == 404)
        let unauthorized = try await harness.server.send(HTTPTestRequest(
            "POST", "/api/v1/issues/PAYMENTS-1/actions", json: #"{"action": "resolve"}"#))
        #expect(unauthorized.status == 401)
        let issue = try await harness.server.admin("/api/v1/issues/PAYMENTS-1")
        #expect(issue.json["status"] as? String == "unresolved")
        #expect((issue.json["actions"] as? [Any])?.isEmpty == true)
        #expect(try await harness.deliveries().count == 3)
        try await harness.stop()
    }

    @Test func eachActionIsRecordedAndShown() async throws {
        let harness = try await Harness.start(rules: Self.rules)
        try await harness.send()
        _ = try await harness.settled()
        let steps: [(action: String, summary: String, state: String)] = [
            ("ack", "Acknowledged by Bob via the admin API", "unresolved"),
            ("assign:alice@example.com", "Assigned to Alice by Bob via the admin API", "unresolved; assigned to alice@example.com"),
            ("ignore:1800s", "Ignored for 30 minutes by Bob via the admin API", "ignored until"),
            ("ignore:10events", "Ignored until 10 more events by Bob via the admin API", "ignored until 10 more events after 1"),
            ("unresolve", "Unresolved by Bob via the admin API", "unresolved; assigned to alice@example.com"),
            ("unassign", "Unassigned by Bob via the admin API", "unresolved"),
            ("resolve_next_release", "Resolved in the next release by Bob via the admin API", "resolved in the next release after 1.0"),
        ]
        for step in steps {
            let response = try await act(harness, #"{"action": "\#(step.action)", "by": "bob@example.com"}"#)
            #expect(response.json["outcome"] as? String == "changed", "\(step.action): \(response.text)")
            #expect(response.json["summary"] as? String == step.summary)
        }
        // A second acknowledgement by the same person in a row changes nothing.
        let ack = try await act(harness, #"{"action": "ack", "by": "bob@example.com"}"#)
        #expect(ack.json["outcome"] as? String == "changed")
        #expect(try await act(harness, #"{"action": "ack", "by": "bob@example.com"}"#).json["outcome"] as? String == "unchanged")

        let issue = try await harness.server.admin("/api/v1/issues/PAYMENTS-1")
        let actions = try #require(issue.json["actions"] as? [[String: Any]]).reversed().prefix(steps.count)
        for (record, step) in zip(actions, steps) {
            #expect(record["action"] as? String == step.action)
            #expect((record["new_state"] as? String)?.hasPrefix(step.state) == true, "\(record)")
        }
        _ = try await harness.settled()
        // Three messages; eight actions, each an update and a reply per message.
        #expect(harness.chat.messages.filter { $0.threadRef != nil }.count == 3 * 8)
        try await harness.stop()
    }
}
