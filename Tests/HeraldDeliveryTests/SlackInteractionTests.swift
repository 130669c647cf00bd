import Crypto
import Foundation
import HeraldChat
import HeraldCore
import HeraldStore
import HeraldTestSupport
import Hummingbird
import Synchronization
import Testing

/// Button clicks from Slack, signed here with swift-crypto directly (not with Herald's signer).
struct SlackClicks {
    let harness: Harness

    /// A block_actions request as Slack sends it: form-encoded `payload`, signed with the app's secret.
    func request(
        team: String = "T0ACME", user: String, value: String, actionTS: String = UUID().uuidString,
        response: String = UUID().uuidString, timestamp: Int = Int(Date().timeIntervalSince1970),
        secret: String = "signing", signature: String? = nil, responseURL: String? = nil
    ) -> HTTPTestRequest {
        let payload: [String: Any] = [
            "type": "block_actions", "user": ["id": user, "username": user.lowercased(), "team_id": team],
            "team": ["id": team, "domain": "example"], "api_app_id": "A0HERALD",
            "container": ["type": "message", "message_ts": "1700000000.000001", "channel_id": "CACME1"],
            "response_url": responseURL ?? harness.chat.slackResponseURL(response), "trigger_id": "123.456.abc",
            "actions": [["action_id": "resolve", "block_id": "herald:1", "type": "button", "value": value,
                         "action_ts": actionTS]],
        ]
        let json = String(decoding: try! JSONSerialization.data(withJSONObject: payload), as: UTF8.self)
        let body = "payload=" + json.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let code = HMAC<SHA256>.authenticationCode(
            for: Data("v0:\(timestamp):\(body)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        let computed = "v0=" + code.map { String(format: "%02x", $0) }.joined()
        return HTTPTestRequest(
            "POST", "/slack/interactions",
            headers: [
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("X-Slack-Request-Timestamp", String(timestamp)), ("X-Slack-Signature", signature ?? computed),
            ],
            body: Array(body.utf8))
    }

    func click(user: String, _ action: IssueAction, issue: Int64, team: String = "T0ACME", actionTS: String = UUID().uuidString,
               response: String = UUID().uuidString) async throws -> HTTPTestResponse {
        try await harness.server.send(request(
            team: team, user: user, value: action.value(issue: issue), actionTS: actionTS, response: response))
    }

    /// What Herald answered the clicker through the response_url.
    func answers(_ response: String) -> [String] {
        harness.chat.requests(path: "/slack/responses/\(response)").compactMap { $0.json["text"] as? String }
    }
}

@Suite struct SlackInteractionTests {
    static let rules = ActionTests.rules

    func started() async throws -> (Harness, SlackClicks, HeraldCore.Issue) {
        let harness = try await Harness.start(rules: Self.rules)
        try await harness.send()
        _ = try await harness.settled()
        let issue = try #require(try await harness.store.issue("PAYMENTS-1"))
        return (harness, SlackClicks(harness: harness), issue)
    }

    @Test func unsignedStaleForgedOrForeignRequestsChangeNothing() async throws {
        let (harness, clicks, issue) = try await started()
        let value = IssueAction.resolve.value(issue: issue.id)
        let now = Int(Date().timeIntervalSince1970)
        let cases: [(HTTPTestRequest, Int)] = [
            (clicks.request(user: "U0ALICE", value: value, signature: "v0=" + String(repeating: "0", count: 64)), 401),
            (clicks.request(user: "U0ALICE", value: value, secret: "not-the-secret"), 401),
            (clicks.request(user: "U0ALICE", value: value, timestamp: now - 400), 401),
            (clicks.request(user: "U0ALICE", value: value, timestamp: now + 400), 401),
            (clicks.request(team: "T0STRANGER", user: "U0ALICE", value: value), 403),
        ]
        for (request, status) in cases {
            let response = try await harness.server.send(request)
            #expect(response.status == status, "\(response.text)")
        }
        var missing = clicks.request(user: "U0ALICE", value: value)
        missing.headers.removeAll { $0.0 == "X-Slack-Signature" }
        #expect(try await harness.server.send(missing).status == 401)
        // A replay inside the window with its body changed fails too.
        var tampered = clicks.request(user: "U0ALICE", value: value)
        tampered.body += Array("&x=1".utf8)
        #expect(try await harness.server.send(tampered).status == 401)

        try await Task.sleep(for: .milliseconds(300))
        #expect(try await harness.store.issue("PAYMENTS-1")?.status == .unresolved)
        #expect(try await harness.store.actions(issue: issue.id).isEmpty)
        #expect(harness.chat.messages.allSatisfy { $0.updates == 0 })
        try await harness.stop()
    }

    static let roles: [(user: String, name: String?, allowed: Bool)] = [
        ("U0ALICE", "Alice", true), ("U0BOB", "Bob", true), ("U0DAN", "Dan", true), ("U0CAROL", nil, false),
        ("U0EVE", nil, false),
    ]

    /// Every action, in an order where each one changes the issue.
    static let sequence: [(IssueAction, IssueStatus, String?)] = [
        (.acknowledge, .unresolved, nil),
        (.assign(email: "bob@example.com"), .unresolved, "bob@example.com"),
        (.ignore(.duration(seconds: 1_800)), .ignored, "bob@example.com"),
        (.unresolve, .unresolved, "bob@example.com"),
        (.ignore(.moreEvents(10)), .ignored, "bob@example.com"),
        (.ignore(.forever), .ignored, "bob@example.com"),
        (.resolve, .resolved, "bob@example.com"),
        (.unassign, .resolved, nil),
        (.unresolve, .unresolved, nil),
        (.resolveInNextRelease, .resolved, nil),
    ]

    @Test(arguments: 0..<5)
    func everyActionForEveryRole(_ role: Int) async throws {
        let (user, name, allowed) = Self.roles[role]
        let (harness, clicks, issue) = try await started()
        for (step, (action, status, assignee)) in Self.sequence.enumerated() {
            let response = "r\(step)"
            #expect(try await clicks.click(user: user, action, issue: issue.id, response: response).status == 200)
            if allowed {
                try await eventually("\(action) by \(user)") {
                    try await harness.store.actions(issue: issue.id).count == step + 1
                }
                let current = try #require(try await harness.store.issue("PAYMENTS-1"))
                #expect(current.status == status, "\(action)")
                #expect(current.assignee?.description == assignee, "\(action)")
                let record = try #require(try await harness.store.actions(issue: issue.id).first)
                #expect(record.actor.name == name)
                #expect(record.actor.surface == "Slack")
                #expect(record.action == action.description)
                #expect(clicks.answers(response).isEmpty)
            } else {
                try await eventually("the refusal to \(user)") { !clicks.answers(response).isEmpty }
                let answer = try #require(clicks.answers(response).first)
                if user == "U0CAROL" {
                    #expect(answer == "You are a stakeholder in Herald: you can follow issues, but not change them.")
                } else {
                    #expect(answer.contains("Slack gives your email as eve@example.com"))
                    #expect(answer.contains("your Slack id U0EVE"))
                }
            }
        }
        if !allowed {
            #expect(try await harness.store.issue("PAYMENTS-1")?.status == .unresolved)
            #expect(try await harness.store.actions(issue: issue.id).isEmpty)
        }
        // users.info was asked once per person, whatever the number of clicks.
        let lookups = harness.chat.requests(path: "users.info")
        #expect(lookups.count == (user == "U0DAN" ? 0 : 1))
        try await harness.stop()
    }

    @Test func aResolveInOneWorkspaceUpdatesTheOthersAndMattermost() async throws {
        let (harness, clicks, issue) = try await started()
        #expect(try await clicks.click(user: "U0ALICE", .resolve, issue: issue.id).status == 200)
        try await eventually("all three messages updated") {
            harness.chat.messages.filter { $0.threadRef == nil && $0.updates == 1 }.count == 3
        }
        let globex = try #require(harness.chat.messages.first { $0.workspace == "globex" && $0.threadRef == nil })
        #expect(globex.blockTexts.contains("*Resolved · Resolved by Alice via Slack*"))
        #expect(globex.actionElements.first?["action_id"] as? String == "unresolve")
        let mattermost = try #require(harness.chat.messages.first { $0.workspace == "ops" && $0.threadRef == nil })
        let attachment = ((mattermost.json["props"] as? [String: Any])?["attachments"] as? [[String: Any]])?.first
        #expect((attachment?["text"] as? String)?.contains("Resolved by Alice via Slack") == true)
        _ = try await harness.settled()
        #expect(harness.chat.messages.filter { $0.threadRef != nil }.count == 3)
        try await harness.stop()
    }

    @Test func aDoubleClickOrARetriedCallbackActsOnce() async throws {
        let (harness, clicks, issue) = try await started()
        let ignore = IssueAction.ignore(.duration(seconds: 1_800))
        // The same click delivered twice (Slack retries a callback it thinks failed).
        #expect(try await clicks.click(user: "U0BOB", ignore, issue: issue.id, actionTS: "1700000001.1").status == 200)
        #expect(try await clicks.click(user: "U0BOB", ignore, issue: issue.id, actionTS: "1700000001.1").status == 200)
        // A second click on Resolve after the first one took effect.
        #expect(try await clicks.click(user: "U0ALICE", .resolve, issue: issue.id, actionTS: "1700000002.1").status == 200)
        try await eventually("two actions") { try await harness.store.actions(issue: issue.id).count == 2 }
        #expect(try await clicks.click(user: "U0ALICE", .resolve, issue: issue.id, actionTS: "1700000003.1",
                                       response: "again").status == 200)
        try await eventually("the answer to the repeated resolve") { !clicks.answers("again").isEmpty }
        #expect(clicks.answers("again") == ["PAYMENTS-1 is already resolved; nothing changed."])
        _ = try await harness.settled()
        #expect(try await harness.store.actions(issue: issue.id).count == 2)
        // Two actions: two updates and two replies per message, no more.
        #expect(harness.chat.messages.filter { $0.threadRef == nil }.allSatisfy { $0.updates == 2 })
        #expect(harness.chat.messages.filter { $0.threadRef != nil }.count == 6)
        try await harness.stop()
    }
}

/// The response_url comes in the request body; Herald answers only at Slack's own hosts (or the configured
/// API's, as here with the double), never wherever a request says.
@Suite struct SlackResponseURLTests {
    @Test func answersGoOnlyToSlack() async throws {
        let harness = try await Harness.start(rules: SlackInteractionTests.rules)
        try await harness.send()
        _ = try await harness.settled()
        let elsewhere = Mutex(0)
        let router = Router()
        router.post("/**") { _, _ in
            elsewhere.withLock { $0 += 1 }
            return Response(status: .ok)
        }
        let trap = await LoopbackServer(router: router)
        let clicks = SlackClicks(harness: harness)
        let value = IssueAction.resolve.value(issue: 1)
        // An unknown person is always answered: once at another address, once at Slack's.
        let foreign = try await harness.server.send(clicks.request(
            user: "U0EVE", value: value, responseURL: "http://127.0.0.1:\(trap.port)/steal"))
        #expect(foreign.status == 200)
        #expect(try await harness.server.send(clicks.request(user: "U0EVE", value: value, response: "slack")).status == 200)
        try await eventually("the answer at Slack's address") { !clicks.answers("slack").isEmpty }
        try await Task.sleep(for: .milliseconds(500))
        #expect(elsewhere.withLock { $0 } == 0)
        try await trap.stop()
        try await harness.stop()
    }
}
