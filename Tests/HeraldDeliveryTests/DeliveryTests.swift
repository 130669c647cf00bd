import HeraldCore
import Crypto
import Foundation
import HeraldChat
import HeraldServer
import HeraldStore
import HeraldTestSupport
import Testing

/// Payment failures go to two Slack workspaces, three channels, with two tags. A second rule fires again for
/// the same issue when an event comes from the US.
let twoWorkspaces = """
    project: payments
    rules:
      - name: Payment failures
        when: [first_seen]
        then:
          - slack: {workspace: acme, channels: ["#payments", "#oncall"], tags: [region, customer]}
          - slack: {workspace: globex, channels: ["#alerts"], tags: [region]}
      - name: Payment failures in the US
        when: [every_event]
        if:
          - tag: {key: region, eq: us}
        then:
          - slack: {workspace: acme, channels: ["#payments", "#oncall"], tags: [region, customer]}
          - slack: {workspace: globex, channels: ["#alerts"], tags: [region]}
    """

/// Retries in milliseconds and light pacing, so tests of failures run fast.
let fastDelivery = """
    delivery:
      retry_delay_seconds: 0.05
      max_retry_delay_seconds: 0.2
      channel_interval_seconds: 0.05
    """

/// A server whose chat targets point at a chat double.
struct Harness {
    let chat: ChatDouble
    let server: RunningServer
    var store: Store { server.server.store }

    /// `server` holds lines for the config's `server` mapping, each indented by two spaces.
    static func start(
        rules: String, extra: String = fastDelivery, server: [String] = [], chat: ChatDouble? = nil,
        directory: TemporaryDirectory = TemporaryDirectory()
    ) async throws -> Harness {
        let chat = if let chat { chat } else { try await RunningServer.chatDouble() }
        let config = RunningServer.configYAML(directory: directory.path, extra: extra, chat: chat)
            .replacingOccurrences(of: "  port: 0", with: (["port: 0"] + server).map { "  " + $0 }.joined(separator: "\n"))
        let server = try await RunningServer(rules: ["payments.yaml": rules], configYAML: config, directory: directory)
        return Harness(chat: chat, server: server)
    }

    /// Posts an event to payments; its id.
    @discardableResult
    func send(_ message: String = "Card declined for order 991", tags: String = #"{"region": "eu"}"#) async throws -> String {
        let response = try await server.postEvent(#"""
            {"message": "\#(message)", "level": "error", "tags": \#(tags), "environment": "production", "release": "1.0"}
            """#)
        #expect(response.status == 200, "\(response.text)")
        return response.json["id"] as? String ?? ""
    }

    func deliveries(_ statuses: [DeliveryStatus] = []) async throws -> [OutboxRecord] {
        try await store.deliveries(DeliveryQuery(statuses: statuses, limit: 500))
    }

    /// Waits until no row is pending or retrying.
    func settled(timeout: Duration = .seconds(15)) async throws -> [OutboxRecord] {
        try await eventually(timeout: timeout, "every delivery to settle") {
            try await deliveries([.pending, .retrying]).isEmpty
        }
        return try await deliveries()
    }

    func stop() async throws {
        try await server.stop()
        try await chat.stop()
    }
}

extension ChatDouble.Message {
    /// Every block's text and field text, for looking things up.
    var blockTexts: [String] {
        (json["blocks"] as? [[String: Any]] ?? []).flatMap { block -> [String] in
            var texts: [String] = []
            if let text = (block["text"] as? [String: Any])?["text"] as? String { texts.append(text) }
            for field in block["fields"] as? [[String: Any]] ?? [] { texts.append(field["text"] as? String ?? "") }
            for element in block["elements"] as? [[String: Any]] ?? [] {
                if let text = element["text"] as? String { texts.append(text) }
            }
            return texts
        }
    }

    var actionElements: [[String: Any]] {
        (json["blocks"] as? [[String: Any]] ?? []).first { $0["type"] as? String == "actions" }?["elements"]
            as? [[String: Any]] ?? []
    }
}

@Suite struct SlackDeliveryTests {
    @Test func oneEventReachesTwoWorkspacesAndThreeChannelsWithTagsAndWorkingButtons() async throws {
        let harness = try await Harness.start(rules: twoWorkspaces)
        try await harness.send()
        let rows = try await harness.settled()
        #expect(rows.count == 3)
        #expect(rows.allSatisfy { $0.status == .delivered && $0.attempts == 1 })

        let messages = harness.chat.messages
        let places = Set(messages.map { "\($0.workspace) \($0.channelID)" })
        #expect(places == ["acme CACME1", "acme CACME2", "globex CGLOBEX1"])
        #expect(messages.count == 3)
        let issue = try #require(try await harness.store.issue("PAYMENTS-1"))
        for message in messages {
            let texts = message.blockTexts
            #expect(texts.contains { $0.contains("<https://herald.example.com/issues/\(issue.id)|Card declined for order 991>") })
            #expect(texts.contains("*region*\neu"))
            #expect(texts.contains("*Project*\npayments"))
            #expect(texts.contains("*Environment*\nproduction"))
            #expect(texts.contains { $0.contains("Rule: Payment failures · PAYMENTS-1") })
            #expect((message.json["text"] as? String)?.contains("PAYMENTS-1: Card declined for order 991") == true)
            // acme asked for `customer` too, which the event lacks.
            #expect(texts.contains("*customer*\n—") == (message.workspace == "acme"))
            // Every button and menu choice names this issue and an action Herald understands.
            let elements = message.actionElements
            #expect(elements.map { $0["action_id"] as? String } == ["resolve", "ignore", "assign", "ack", "more"])
            var values = elements.compactMap { $0["value"] as? String }
            for element in elements {
                values += (element["options"] as? [[String: Any]] ?? []).compactMap { $0["value"] as? String }
            }
            let parsed = values.compactMap(IssueAction.parse(value:))
            #expect(parsed.count == values.count)
            #expect(parsed.allSatisfy { $0.issue == issue.id })
            #expect(Set(parsed.map(\.action)) == [
                .resolve, .acknowledge, .ignore(.duration(seconds: 1_800)), .ignore(.duration(seconds: 7_200)),
                .ignore(.duration(seconds: 86_400)), .ignore(.moreEvents(10)), .ignore(.moreEvents(100)),
                .ignore(.forever), .assign(email: "alice@example.com"), .assign(email: "bob@example.com"),
                .assign(email: "dan@example.com"), .resolveInNextRelease,
            ])
        }
        // Each workspace's token, JSON with a charset, and the handle kept for every row.
        for request in harness.chat.requests(path: "chat.postMessage") {
            let token = request.workspace == "acme" ? "xoxb-acme" : "xoxb-globex"
            #expect(request.headers["authorization"] == "Bearer \(token)")
            #expect(request.headers["content-type"] == "application/json; charset=utf-8")
        }
        let refs = Set(messages.map(\.ref))
        #expect(Set(rows.compactMap(\.deliveredRef)) == refs)
        let handles = try await harness.store.messageHandles(issue: issue.id)
        #expect(Set(handles.map(\.ref)) == refs)
        #expect(Set(handles.map(\.channel)) == ["#payments", "#oncall", "#alerts"])
        try await harness.stop()
    }

    @Test func deliveryStateIsVisibleInTheAdminAPIAndMetrics() async throws {
        let chat = try await RunningServer.chatDouble()
        chat.script("#oncall", .error("is_archived"))
        let harness = try await Harness.start(rules: twoWorkspaces, chat: chat)
        try await harness.send()
        _ = try await harness.settled()

        let delivered = try await harness.server.admin("/api/v1/deliveries?status=delivered")
        #expect(delivered.status == 200)
        let rows = try #require(delivered.json["deliveries"] as? [[String: Any]])
        #expect(rows.count == 2)
        #expect(Set(rows.compactMap { $0["delivered_channel"] as? String }) == ["CACME1", "CGLOBEX1"])
        #expect(rows.allSatisfy { ($0["delivered_ref"] as? String)?.hasPrefix("1700000000.") == true })

        let failed = try await harness.server.admin("/api/v1/deliveries?status=failed,dead&issue=PAYMENTS-1&kind=slack")
        let failedRows = try #require(failed.json["deliveries"] as? [[String: Any]])
        #expect(failedRows.count == 1)
        #expect(failedRows.first?["channel"] as? String == "#oncall")
        #expect(failedRows.first?["last_error"] as? String == "is_archived: chat.postMessage refused: is_archived")

        let paged = try await harness.server.admin("/api/v1/deliveries?limit=2")
        let before = try #require(paged.json["next_before"] as? Int)
        let rest = try await harness.server.admin("/api/v1/deliveries?limit=2&before=\(before)")
        #expect((rest.json["deliveries"] as? [[String: Any]])?.count == 1)

        let bad = try await harness.server.admin("/api/v1/deliveries?status=lost")
        #expect(bad.status == 400)
        #expect(bad.json["field"] as? String == "status")
        let unauthorized = try await harness.server.send(HTTPTestRequest("GET", "/api/v1/deliveries"))
        #expect(unauthorized.status == 401)

        let issue = try await harness.server.admin("/api/v1/issues/PAYMENTS-1")
        let messages = try #require(issue.json["messages"] as? [[String: Any]])
        #expect(Set(messages.compactMap { $0["channel_id"] as? String }) == ["CACME1", "CGLOBEX1"])

        let metrics = try await harness.server.send(HTTPTestRequest("GET", "/metrics")).text
        let lines = metrics.split(separator: "\n").filter { $0.hasPrefix("herald_deliveries_total{") }
        #expect(lines.contains { $0.contains(#"target="acme""#) && $0.contains(#"outcome="delivered""#) && $0.hasSuffix(" 1") })
        #expect(lines.contains { $0.contains(#"target="acme""#) && $0.contains(#"outcome="failed""#) && $0.hasSuffix(" 1") })
        #expect(lines.contains { $0.contains(#"target="globex""#) && $0.contains(#"outcome="delivered""#) && $0.hasSuffix(" 1") })
        #expect(metrics.contains("herald_delivery_attempt_seconds_count{kind=\"slack\"} 3"))
        try await harness.stop()
    }

    @Test func a429WaitsExactlyRetryAfterForThatWorkspaceOnly() async throws {
        let chat = try await RunningServer.chatDouble()
        chat.script("#payments", .rateLimited(retryAfter: 1))
        let harness = try await Harness.start(rules: twoWorkspaces, chat: chat)
        try await harness.send()
        let rows = try await harness.settled()
        #expect(rows.allSatisfy { $0.status == .delivered })
        let posts = chat.requests(path: "chat.postMessage")
        let payments = posts.filter { $0.json["channel"] as? String == "#payments" }
        #expect(payments.count == 2)
        let waited = payments[1].at - payments[0].at
        #expect(waited >= .seconds(1), "retried after \(waited)")
        // globex is not held up by acme's limit.
        let globex = try #require(posts.first { $0.workspace == "globex" })
        #expect(globex.at < payments[0].at + .seconds(1))
        let row = try #require(rows.first { $0.channel == "#payments" })
        #expect(row.attempts == 2)
        try await harness.stop()
    }

    @Test func a5xxIsRetriedWithBackoff() async throws {
        let chat = try await RunningServer.chatDouble()
        chat.script("#payments", .status(500), .status(503))
        let harness = try await Harness.start(rules: twoWorkspaces, chat: chat)
        try await harness.send()
        let rows = try await harness.settled()
        let row = try #require(rows.first { $0.channel == "#payments" })
        #expect(row.status == .delivered)
        #expect(row.attempts == 3)
        #expect(chat.messages.filter { $0.channelID == "CACME1" }.count == 1)
        try await harness.stop()
    }

    @Test func aDistantRetryWaitsInTheDatabaseAndIsReadBackWhenDue() async throws {
        let chat = try await RunningServer.chatDouble()
        chat.script("#payments", .status(500))
        let extra = "delivery:\n  retry_delay_seconds: 2\n  memory_retry_seconds: 0"
        let harness = try await Harness.start(rules: twoWorkspaces, extra: extra, chat: chat)
        try await harness.send()
        try await eventually("the failed row to wait as retrying") {
            try await harness.deliveries([.retrying]).map(\.channel) == ["#payments"]
        }
        let waiting = try #require(try await harness.deliveries([.retrying]).first)
        #expect(waiting.attempts == 1)
        #expect(waiting.lastError?.hasPrefix("HTTP 500") == true)
        #expect(waiting.nextAttemptAt > waiting.updatedAt)
        let rows = try await harness.settled()
        #expect(rows.allSatisfy { $0.status == .delivered })
        #expect(rows.first { $0.channel == "#payments" }?.attempts == 2)
        #expect(chat.messages.filter { $0.channelID == "CACME1" }.count == 1)
        try await harness.stop()
    }

    /// Once anything but its own timer woke the delivery loop (a delivery ending, new rows), the timer it
    /// cancelled rang anyway, waking the next round, whose cancelled timer rang in turn: an idle server spun
    /// on a full core for good. An idle dispatcher now wakes a few times a second.
    @Test func anIdleDispatcherDoesNotSpin() async throws {
        let harness = try await Harness.start(rules: twoWorkspaces)
        try await harness.send()
        _ = try await harness.settled()
        // Wake it from outside a few times, as new rows do.
        for _ in 0..<5 {
            harness.server.server.dispatcher.rowsAdded()
            try await Task.sleep(for: .milliseconds(20))
        }
        let before = await harness.server.server.dispatcher.rounds
        try await Task.sleep(for: .seconds(2))
        let rounds = await harness.server.server.dispatcher.rounds - before
        // Two polls a second and a flush or two; the spin made tens of thousands.
        #expect(rounds < 40, "\(rounds) rounds in 2 s of idleness")
        try await harness.stop()
    }

    @Test func aTimeoutIsRetried() async throws {
        let chat = try await RunningServer.chatDouble()
        chat.script("#oncall", .delay(.seconds(3)))
        let harness = try await Harness.start(
            rules: twoWorkspaces, extra: fastDelivery + "\n  request_timeout_seconds: 0.5", chat: chat)
        try await harness.send()
        let rows = try await harness.settled()
        let row = try #require(rows.first { $0.channel == "#oncall" })
        #expect(row.status == .delivered)
        #expect(row.attempts == 2)
        try await harness.stop()
    }

    static let permanentErrors = [
        "channel_not_found", "not_in_channel", "is_archived", "invalid_auth", "not_authed", "account_inactive",
        "token_revoked", "token_expired", "missing_scope", "no_permission", "invalid_blocks", "msg_too_long",
    ]

    @Test(arguments: permanentErrors)
    func aPermanentErrorFailsAtOnceKeepingTheReason(_ code: String) async throws {
        let chat = try await RunningServer.chatDouble()
        chat.script("#payments", .error(code))
        let harness = try await Harness.start(rules: twoWorkspaces, chat: chat)
        try await harness.send()
        let rows = try await harness.settled()
        let failed = try #require(rows.first { $0.channel == "#payments" })
        #expect(failed.status == .failed)
        #expect(failed.attempts == 1)
        #expect(failed.lastError?.contains(code) == true, "\(failed.lastError ?? "")")
        #expect(chat.requests.filter { $0.json["channel"] as? String == "#payments" }.count == 1)
        // The others are delivered all the same.
        #expect(rows.filter { $0.status == .delivered }.count == 2)
        try await harness.stop()
    }

    @Test func aSecondFiringRepliesInTheThreadAndUpdatesTheFirstMessage() async throws {
        let harness = try await Harness.start(rules: twoWorkspaces)
        try await harness.send()
        _ = try await harness.settled()
        try await harness.send(tags: #"{"region": "us"}"#)
        let rows = try await harness.settled()
        #expect(rows.count == 6)
        #expect(rows.allSatisfy { $0.status == .delivered })

        let messages = harness.chat.messages
        #expect(messages.count == 6)
        let parents = messages.filter { $0.threadRef == nil }
        let replies = messages.filter { $0.threadRef != nil }
        #expect(parents.count == 3)
        #expect(replies.count == 3)
        for reply in replies {
            let parent = try #require(parents.first { $0.ref == reply.threadRef })
            #expect(parent.channelID == reply.channelID)
            #expect(parent.updates == 1)
            #expect(parent.blockTexts.contains { $0.contains("*Events:* 2") })
            #expect(reply.blockTexts.contains { $0.contains("Fired again") })
            #expect(reply.blockTexts.contains("*region*\nus"))
        }
        let issue = try #require(try await harness.store.issue("PAYMENTS-1"))
        let handles = try await harness.store.messageHandles(issue: issue.id)
        #expect(handles.filter { $0.threadRef != nil }.count == 3)
        try await harness.stop()
    }

    @Test func aReplyToADeletedMessageStartsANewOne() async throws {
        let rules = twoWorkspaces + """

              - name: Payment failures in Asia
                when: [every_event]
                if:
                  - tag: {key: region, eq: ap}
                then:
                  - slack: {workspace: acme, channels: ["#payments"]}
            """
        let harness = try await Harness.start(rules: rules)
        try await harness.send()
        _ = try await harness.settled()
        harness.chat.script("CACME1", .error("thread_not_found"))
        try await harness.send(tags: #"{"region": "us"}"#)
        let rows = try await harness.settled()
        #expect(rows.allSatisfy { $0.status == .delivered })
        let payments = harness.chat.messages.filter { $0.channelID == "CACME1" }
        #expect(payments.count == 2)
        #expect(payments.allSatisfy { $0.threadRef == nil })
        // The new message is the one later firings reply to.
        let issue = try #require(try await harness.store.issue("PAYMENTS-1"))
        let handles = try await harness.store.messageHandles(issue: issue.id).filter { $0.channelID == "CACME1" }
        #expect(handles.map(\.ref) == payments.map(\.ref))
        try await harness.send(tags: #"{"region": "ap"}"#)
        _ = try await harness.settled()
        let reply = try #require(harness.chat.messages.last { $0.channelID == "CACME1" })
        #expect(reply.threadRef == payments[1].ref)
        try await harness.stop()
    }

    @Test func newMessageModePostsAgainInsteadOfReplying() async throws {
        let harness = try await Harness.start(rules: twoWorkspaces, extra: fastDelivery + "\n  repeat_firings: new_message")
        try await harness.send()
        _ = try await harness.settled()
        try await harness.send(tags: #"{"region": "us"}"#)
        _ = try await harness.settled()
        #expect(harness.chat.messages.count == 6)
        #expect(harness.chat.messages.allSatisfy { $0.threadRef == nil && $0.updates == 0 })
        try await harness.stop()
    }

    @Test func aSlowChannelDoesNotDelayAnother() async throws {
        let chat = try await RunningServer.chatDouble()
        chat.script("#payments", .delay(.seconds(2)))
        let harness = try await Harness.start(rules: twoWorkspaces, chat: chat)
        try await harness.send()
        try await eventually("#oncall and #alerts") {
            Set(chat.messages.map(\.channelID)).isSuperset(of: ["CACME2", "CGLOBEX1"])
        }
        // The slow channel's request is still in progress: its message is not there yet.
        #expect(!chat.messages.contains { $0.channelID == "CACME1" })
        _ = try await harness.settled()
        #expect(chat.messages.count == 3)
        try await harness.stop()
    }

    @Test func aChannelIsPacedAfterItsBurst() async throws {
        let rules = """
            project: payments
            rules:
              - name: Everything
                when: [first_seen]
                then:
                  - slack: {workspace: acme, channels: ["#payments"]}
            """
        let extra = "delivery:\n  channel_burst: 2\n  channel_interval_seconds: 1"
        let harness = try await Harness.start(rules: rules, extra: extra)
        for name in ["alpha", "beta", "gamma", "delta"] { try await harness.send("Failure \(name)") }
        _ = try await harness.settled()
        let times = harness.chat.requests(path: "chat.postMessage").map(\.at).sorted()
        try #require(times.count == 4)
        // A bucket of 2 refilled every second lets the fourth message go 2 s after the first. The double stamps
        // arrival, and on a busy machine the first may arrive late and the last on time, so this allows 0.9 s;
        // unpaced, the four arrive within a few tens of milliseconds. `LaneTests` checks the bucket exactly.
        #expect(times[3] - times[0] >= .milliseconds(1_100), "four messages within \(times[3] - times[0])")
        try await harness.stop()
    }

    @Test func aChannelFromATagFallsBackWhenItDoesNotExist() async throws {
        let rules = """
            project: payments
            rules:
              - name: By team
                when: [first_seen]
                then:
                  - slack: {workspace: globex, channels: ["#team-{{ tags.team }}"]}
                  - slack: {workspace: acme, channels: ["#team-{{ tags.team }}"]}
            """
        let harness = try await Harness.start(rules: rules)
        try await harness.send(tags: #"{"team": "Billing"}"#)
        let rows = try await harness.settled()
        let globex = try #require(rows.first { $0.target == "globex" })
        #expect(globex.status == .delivered)
        #expect(globex.deliveredChannel == "CGLOBEX1")
        #expect(harness.chat.messages.map(\.channelID) == ["CGLOBEX1"])
        // acme has no fallback channel: the row fails and says why.
        let acme = try #require(rows.first { $0.target == "acme" })
        #expect(acme.status == .failed)
        #expect(acme.lastError == "channel_not_found: chat.postMessage refused: channel_not_found")

        // A tag that is missing altogether goes straight to the fallback, or fails naming the tag.
        try await harness.send("Another failure", tags: #"{"region": "eu"}"#)
        let more = try await harness.settled().filter { $0.eventID != globex.eventID }
        #expect(more.first { $0.target == "globex" }?.status == .delivered)
        let failed = try #require(more.first { $0.target == "acme" })
        #expect(failed.status == .failed)
        #expect(failed.lastError?.contains("the event has no tag 'team'") == true, "\(failed.lastError ?? "")")
        try await harness.stop()
    }

    @Test func aTargetThatKeepsFailingIsGivenUpAtTheMaximumAge() async throws {
        let chat = try await RunningServer.chatDouble()
        for _ in 0..<200 { chat.script("#alerts", .status(502)) }
        let harness = try await Harness.start(
            rules: twoWorkspaces, extra: fastDelivery + "\n  give_up_after_hours: 0.0015", chat: chat)
        try await harness.send()
        let rows = try await harness.settled()
        let dead = try #require(rows.first { $0.target == "globex" })
        #expect(dead.status == .dead)
        #expect(dead.attempts > 1)
        #expect(dead.lastError?.contains("gave up after \(dead.attempts) attempts") == true)
        #expect(dead.lastError?.contains("HTTP 502") == true)
        try await harness.stop()
    }

    @Test func aRestartSendsWhatWasPendingAndNothingTwice() async throws {
        let directory = TemporaryDirectory()
        let chat = try await RunningServer.chatDouble()
        let first = try await Harness.start(rules: twoWorkspaces, chat: chat, directory: directory)
        try await first.send()
        _ = try await first.settled()
        #expect(chat.messages.count == 3)
        // Slack fails everything for a while: the second event's rows stay pending through the shutdown.
        for _ in 0..<1_000 { chat.script("*", .status(500)) }
        try await first.send("A second failure")
        try await eventually("failed attempts") { chat.requests.count >= 6 }
        try await first.server.stop()
        #expect(try await first.deliveries([.pending]).count == 3)

        chat.resetScripts()
        let restarted = try await Harness.start(rules: twoWorkspaces, chat: chat, directory: directory)
        let rows = try await restarted.settled()
        #expect(rows.count == 6)
        #expect(rows.allSatisfy { $0.status == .delivered })
        // Six messages: the first three were not posted again, the last three once each.
        let messages = chat.messages
        #expect(messages.count == 6)
        #expect(Set(messages.map { "\($0.channelID) \($0.json["text"] as? String ?? "")" }).count == 6)
        try await restarted.stop()
    }
}

@Suite struct MattermostAndWebhookDeliveryTests {
    static let rules = """
        project: payments
        rules:
          - name: Payment failures
            when: [first_seen]
            then:
              - mattermost: {connector: ops, channels: ["#incidents"], tags: [region]}
              - webhook: {name: pager}
          - name: Payment failures in the US
            when: [every_event]
            if:
              - tag: {key: region, eq: us}
            then:
              - mattermost: {connector: ops, channels: ["#incidents"], tags: [region]}
        """

    @Test func botPostsCarrySignedButtonsAndRepeatFiringsReplyInTheThread() async throws {
        let harness = try await Harness.start(rules: Self.rules)
        try await harness.send()
        _ = try await harness.settled()
        let channelID = try #require(harness.chat.mattermostChannelID("ops", "incidents"))
        let post = try #require(harness.chat.messages.first)
        #expect(post.channelID == channelID)
        #expect(harness.chat.requests(path: "/channels/name/incidents").count == 1)
        let attachment = try #require(((post.json["props"] as? [String: Any])?["attachments"] as? [[String: Any]])?.first)
        let issue = try #require(try await harness.store.issue("PAYMENTS-1"))
        #expect(attachment["title_link"] as? String == "https://herald.example.com/issues/\(issue.id)")
        let fields = attachment["fields"] as? [[String: Any]] ?? []
        #expect(fields.contains { $0["title"] as? String == "region" && $0["value"] as? String == "eu" })
        let actions = attachment["actions"] as? [[String: Any]] ?? []
        #expect(actions.map { $0["id"] as? String } == ["resolve", "ignore", "assign", "ack", "resolvenext"])
        let key = try harness.store.callbackKey()
        for action in actions {
            let integration = try #require(action["integration"] as? [String: Any])
            #expect(integration["url"] as? String == "https://herald.example.com/mattermost/actions")
            let context = try #require(integration["context"] as? [String: Any])
            #expect(context["issue_id"] as? Int == Int(issue.id))
            let family = try #require(IssueAction(context["action"] as? String ?? "")?.family ?? context["action"] as? String)
            // Computed here with swift-crypto directly, not through Herald's signer.
            let stamp = "\(try #require(context["expires"] as? Int)):\(try #require(context["nonce"] as? String))"
            let expected = HMAC<SHA256>.authenticationCode(
                for: Data("v2:\(issue.id):\(family):ops:\(stamp)".utf8), using: SymmetricKey(data: key))
                .map { String(format: "%02x", $0) }.joined()
            #expect(context["signature"] as? String == expected)
        }

        try await harness.send(tags: #"{"region": "us"}"#)
        _ = try await harness.settled()
        let posts = harness.chat.messages
        #expect(posts.count == 2)
        #expect(posts[1].threadRef == post.ref)
        #expect(posts[0].updates == 1)
        // The channel id was looked up once.
        #expect(harness.chat.requests(path: "/channels/name/incidents").count == 1)
        try await harness.stop()
    }

    @Test func webhookBodiesAreSignedAndCarryIssueEventAndRules() async throws {
        let harness = try await Harness.start(rules: Self.rules)
        let eventID = try await harness.send()
        _ = try await harness.settled()
        let request = try #require(harness.chat.requests(path: "/hooks/pager").first)
        let expected = HMAC<SHA256>.authenticationCode(for: Data(request.body), using: SymmetricKey(data: Data("hook-secret".utf8)))
            .map { String(format: "%02x", $0) }.joined()
        #expect(request.headers["x-herald-signature"] == "sha256=" + expected)
        let body = request.json
        let issue = try #require(body["issue"] as? [String: Any])
        #expect(issue["short_id"] as? String == "PAYMENTS-1")
        #expect((issue["url"] as? String)?.hasPrefix("https://herald.example.com/issues/") == true)
        #expect(body["rules"] as? [String] == ["Payment failures"])
        #expect(body["event_id"] as? String == eventID)
        #expect((body["event"] as? [String: Any])?["message"] as? String == "Card declined for order 991")
        #expect(request.headers["x-herald-delivery"] == String(try #require(body["delivery_id"] as? Int)))
        try await harness.stop()
    }

    @Test func aHangingWebhookDoesNotDelayChat() async throws {
        let chat = try await RunningServer.chatDouble()
        chat.script("pager", .delay(.seconds(2)))
        let harness = try await Harness.start(rules: Self.rules, chat: chat)
        try await harness.send()
        try await eventually("the Mattermost post recorded") {
            try await harness.deliveries([.delivered]).map(\.kind) == [.mattermost]
        }
        // The webhook is still waiting for its answer.
        #expect(try await harness.deliveries([.pending]).map(\.kind) == [.webhook])
        _ = try await harness.settled()
        try await harness.stop()
    }

    @Test func mattermostRateLimitsAreWaitedOut() async throws {
        let chat = try await RunningServer.chatDouble()
        let channelID = try #require(chat.mattermostChannelID("ops", "incidents"))
        chat.script(channelID, .rateLimited(retryAfter: 1))
        let harness = try await Harness.start(rules: Self.rules, chat: chat)
        try await harness.send()
        let rows = try await harness.settled()
        #expect(rows.allSatisfy { $0.status == .delivered })
        let posts = chat.requests(path: "/api/v4/posts")
        #expect(posts.count == 2)
        #expect(posts[1].at - posts[0].at >= .seconds(1))
        try await harness.stop()
    }

    @Test func webhookFailuresAreSortedLikeChatOnes() async throws {
        let chat = try await RunningServer.chatDouble()
        chat.script("pager", .status(503), .error("bad payload"))
        let harness = try await Harness.start(rules: Self.rules, chat: chat)
        try await harness.send()
        let rows = try await harness.settled()
        let webhook = try #require(rows.first { $0.kind == .webhook })
        #expect(webhook.status == .failed)
        #expect(webhook.attempts == 2)
        #expect(webhook.lastError == "http_400: bad payload")
        try await harness.stop()
    }

    @Test func anIncomingWebhookConnectorPostsByChannelName() async throws {
        let chat = try await RunningServer.chatDouble()
        let directory = TemporaryDirectory()
        let config = RunningServer.configYAML(directory: directory.path, extra: fastDelivery, chat: chat)
            .replacingOccurrences(
                of: "token: mm-token, team: ops",
                with: "webhook_url: \"\(chat.mattermostHookURL("abc"))\"")
        let server = try await RunningServer(rules: ["payments.yaml": Self.rules], configYAML: config, directory: directory)
        let harness = Harness(chat: chat, server: server)
        try await harness.send()
        let rows = try await harness.settled()
        #expect(rows.allSatisfy { $0.status == .delivered })
        let hook = try #require(chat.requests(path: "/mm/hooks/abc").first)
        #expect(hook.json["channel"] as? String == "incidents")
        // Herald never learns an incoming webhook post's id, so it cannot bind a click to it: no buttons.
        #expect((hook.json["attachments"] as? [[String: Any]])?.first?["actions"] == nil)
        try await harness.stop()
    }
}
