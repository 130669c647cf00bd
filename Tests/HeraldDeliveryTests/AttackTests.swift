import Foundation
import HeraldCore
import HeraldServer
import HeraldStore
import HeraldTestSupport
import Hummingbird
import Synchronization
import Testing

/// Attacks on a real server over real HTTP, one per class of harm issue 11 names, each sent the way an
/// outsider could: with a project key a public DSN reveals, as a chat user, or as a client that never
/// finishes. Each test checks the same four things: every attack request is answered (or its connection
/// closed) within a bound, a bystander posting to another project all through it is served every time, the
/// server is healthy afterwards, and nothing the attack was refused is stored or changed.
///
/// The bounds are generous, so a loaded machine does not fail a correct server; a server without the
/// defence takes minutes or forever, and fails them.
struct Siege {
    let harness: Harness
    var port: Int { harness.server.port }

    /// The bystander's answers: status and how long each took.
    struct Bystander {
        var answers: [(status: Int, took: Duration)] = []
    }

    /// What no refused request may change: payments' issues, every delivery row and every chat message.
    func snapshot() async throws -> [String] {
        let issues = try await harness.store.issues(IssueQuery(projectID: 1, limit: 500)).issues.map { issue in
            "\(issue.shortID) \(issue.status) \(issue.substatus) seen=\(issue.timesSeen) "
                + "assignee=\(issue.assignee.map { "\($0)" } ?? "-") ignore=\(issue.ignore.map { "\($0)" } ?? "-")"
        }
        let deliveries = try await harness.deliveries().map { "\(String(describing: $0.id)) \($0.status)" }
        let messages = harness.chat.messages.map { "\($0.workspace) \($0.ref) updates=\($0.updates)" }
        return issues.sorted() + deliveries.sorted() + messages.sorted()
    }

    /// Runs `attack` within `bound` while a bystander posts an event to the web project every 100 ms; then
    /// checks the bystander was answered 200 every time within `bystanderBound`, and `/healthz` is 200.
    @discardableResult
    func run(
        bound: Duration = .seconds(60), bystanderBound: Duration = .seconds(10),
        _ attack: @escaping @Sendable () async throws -> Void
    ) async throws -> Bystander {
        let done = Atomic<Bool>(false)
        let port = port
        let bystander = Task {
            var report = Bystander()
            // At least three requests, so a short attack still has someone beside it.
            while !done.load(ordering: .relaxed) || report.answers.count < 3 {
                let start = ContinuousClock.now
                let response = try await HTTPTestRequest(
                    "POST", "/api/v1/events", headers: [("Authorization", "Bearer wk-2")],
                    json: #"{"message": "bystander", "level": "error"}"#
                ).send(port: port)
                report.answers.append((response.status, ContinuousClock.now - start))
                try await Task.sleep(for: .milliseconds(100))
            }
            return report
        }
        defer { bystander.cancel() }
        do {
            try await within(bound, "the attack to be answered") { try await attack() }
        } catch {
            done.store(true, ordering: .relaxed)
            throw error
        }
        done.store(true, ordering: .relaxed)
        let report = try await within(bound, "the bystander") { try await bystander.value }
        for answer in report.answers {
            #expect(answer.status == 200, "the bystander was refused during the attack")
            #expect(answer.took < bystanderBound, "the bystander waited \(answer.took)")
        }
        let health = try await HTTPTestRequest("GET", "/healthz").send(port: port)
        #expect(health.status == 200, "\(health.text)")
        return report
    }
}

/// Runs `work`, failing if it takes longer than `bound`: a server without the defence hangs the attack, and
/// the test must fail rather than hang with it.
func within<T: Sendable>(
    _ bound: Duration, _ what: String, _ work: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await work() }
        group.addTask {
            try await Task.sleep(for: bound)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            throw Overran(what: "\(what) within \(bound)")
        }
        return value
    }
}

/// A client as simple as many are: it sends the whole request with blocking writes, and only then reads the
/// answer, whatever the server does meanwhile (NIO's client would stop at the server's early end of output).
/// On a thread of its own, so its blocking never holds the server's. Its answer's status, or 0 if the
/// connection failed or the exchange took over two minutes.
func blockingExchange(port: Int, _ bytes: [UInt8]) async throws -> Int {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            defer { close(fd) }
            var timeout = timeval(tv_sec: 120, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            guard connected else { return continuation.resume(returning: 0) }
            var sent = 0
            while sent < bytes.count {
                let count = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard count > 0 else { return continuation.resume(returning: 0) }
                sent += count
            }
            var answer: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4_096)
            while true {
                let count = recv(fd, &buffer, buffer.count, 0)
                guard count > 0 else { break }
                answer += buffer[..<count]
            }
            let statusLine = String(decoding: answer.prefix(20), as: UTF8.self).split(separator: " ")
            continuation.resume(returning: statusLine.count > 1 ? Int(statusLine[1]) ?? 0 : 0)
        }
    }
}

struct Overran: Error, CustomStringConvertible {
    var what: String
    var description: String { "took too long: \(what)" }
}

/// Sends every request at once, each on its own connection; their answers in order.
func concurrently(_ requests: [HTTPTestRequest], port: Int) async throws -> [HTTPTestResponse] {
    try await withThrowingTaskGroup(of: (Int, HTTPTestResponse).self) { group in
        for (index, request) in requests.enumerated() {
            group.addTask { (index, try await request.send(port: port)) }
        }
        var answers = [HTTPTestResponse?](repeating: nil, count: requests.count)
        for try await (index, response) in group { answers[index] = response }
        return answers.compactMap { $0 }
    }
}

private let paymentsKey = ("Authorization", "Bearer pk-1")
private let sentryAuth = ("X-Sentry-Auth", "Sentry sentry_key=pk-1, sentry_version=7")

@Suite(.serialized) struct AttackTests {
    /// Deep and wide JSON in every place a body is decoded, sixteen at once: each is refused by the shape check
    /// before any decoder runs, so the cost stays linear in the body and nothing is left working after.
    @Test func costOutOfProportionToSize() async throws {
        let harness = try await Harness.start(rules: ActionTests.rules)
        try await harness.send()
        _ = try await harness.settled()
        let siege = Siege(harness: harness)
        let before = try await siege.snapshot()

        let deep = String(repeating: "[", count: 50_000) + String(repeating: "]", count: 50_000)
        let deepSiblings = #"{"message": "m", "extra": {"#
            + (0..<40).map { #""k\#($0)": \#(String(repeating: "[", count: 300) + String(repeating: "]", count: 300))"# }
                .joined(separator: ", ") + "}}"
        let wide = #"{"message": "m", "extra": {"w": ["# + Array(repeating: "0", count: 300_000).joined(separator: ",") + "]}}"
        let longString = #"{"message": "\#(String(repeating: "x", count: 600_000))"}"#
        var requests: [HTTPTestRequest] = []
        for body in [deep, deepSiblings, wide, longString] {
            requests.append(HTTPTestRequest("POST", "/api/v1/events", headers: [paymentsKey], json: body))
            requests.append(HTTPTestRequest("POST", "/api/1/store/", headers: [sentryAuth], json: body))
            requests.append(HTTPTestRequest(
                "POST", "/api/1/envelope/", headers: [sentryAuth], body: Envelope.build(items: [("event", body)])))
            requests.append(HTTPTestRequest(
                "POST", "/mattermost/actions", json: #"{"user_id": "mmalice", "context": \#(body)}"#))
        }
        let answers = Mutex<[HTTPTestResponse]>([])
        try await siege.run(bound: .seconds(30)) { [requests] in
            let responses = try await concurrently(requests, port: siege.port)
            answers.withLock { $0 = responses }
        }
        for (request, response) in zip(requests, answers.withLock { $0 }) {
            #expect(response.status == 400, "\(request.path): \(response.text.prefix(200))")
            let message = response.json["error"] as? String ?? ""
            #expect(["nests arrays and objects more than 64 deep", "values", "string longer than", "context"]
                .contains { message.contains($0) }, "\(request.path): \(message)")
        }
        #expect(try await siege.snapshot() == before)
        try await harness.stop()
    }

    /// Numbers near and past `Int.max`, `1e300` and infinities, from every place a number comes in: the admin
    /// API, Slack button values, Mattermost menu choices, and event timestamps and line numbers. None traps;
    /// the out-of-range ones are refused and change nothing.
    @Test func numbersThatOnceTrapped() async throws {
        let harness = try await Harness.start(rules: ActionTests.rules)
        try await harness.send()
        _ = try await harness.settled()
        let siege = Siege(harness: harness)
        let before = try await siege.snapshot()
        let issue = try #require(try await harness.store.issue("PAYMENTS-1"))
        let huge = ["9223372036854775807", "9223372036854775808", "99999999999999999999999", "1e300", "-1", "inf", "nan"]
        let contexts = try MattermostActionTests().contexts(harness)
        // Immutable after this line; read from the attack closures.
        nonisolated(unsafe) let ignoreContext = try #require(contexts["ignore"])

        try await siege.run {
            for number in huge {
                for unit in ["s", "events", "users"] {
                    let action = "ignore:\(number)\(unit)"
                    let admin = try await harness.server.send(HTTPTestRequest(
                        "POST", "/api/v1/issues/PAYMENTS-1/actions",
                        headers: [("Authorization", "Bearer \(RunningServer.adminToken)")],
                        json: #"{"action": "\#(action)"}"#))
                    #expect(admin.status == 400, "\(action): \(admin.text)")

                    let slack = try await harness.server.send(SlackClicks(harness: harness).request(
                        user: "U0ALICE", value: "\(issue.id):\(action)"))
                    #expect(slack.status == 200 || slack.status == 400, "\(action): \(slack.text)")

                    let menu = try await MattermostActionTests().click(
                        harness, user: "mmalice", context: ignoreContext, choice: action)
                    #expect(menu.status == 200, "\(action): \(menu.text)")
                    #expect((menu.json["ephemeral_text"] as? String)?.contains("Ignored") != true, "\(menu.text)")
                }
            }
            // Timestamps and numbers in events: refused, or clamped and kept honestly, never a trap.
            for timestamp in ["1e300", "-1e300", "1.7976931348623157e308", #""inf""#, #""9999-99-99T99:99:99Z""#] {
                let response = try await harness.server.postEvent(
                    #"{"message": "timestamp \#(timestamp.count)", "timestamp": \#(timestamp)}"#, key: "wk-2")
                #expect(response.status == 400, "\(timestamp): \(response.text)")
            }
            let lineno = try await harness.server.postEvent(#"""
                {"message": "m", "exception": [{"type": "E", "frames": [{"function": "f", "lineno": 1e300}]}]}
                """#, key: "wk-2")
            #expect(lineno.status == 400, "\(lineno.text)")
        }
        #expect(try await siege.snapshot() == before)
        try await harness.stop()
    }

    /// Clients that hold connections without finishing a request: fifty that send their headers a byte at a
    /// time, fifty that send nothing, fifty that trickle a body, and fifty that finish one request and then
    /// idle. Each is closed or answered 408 within its deadline, no ingest place is held after, and the
    /// bystander is served throughout.
    @Test func slowClientsLoseTheirPlaces() async throws {
        let harness = try await Harness.start(
            rules: ActionTests.rules,
            // Two seconds, not one: the bystander's own connections live under the same header deadline, and
            // a loaded machine can stall one that long between its connect and its head.
            server: ["header_timeout_seconds: 2", "idle_timeout_seconds: 2", "body_timeout_seconds: 2"])
        let siege = Siege(harness: harness)
        let before = try await siege.snapshot()
        let port = siege.port
        let event = HTTPTestRequest("POST", "/api/v1/events", headers: [paymentsKey],
                                    json: #"{"message": "\#(String(repeating: "x", count: 100))"}"#)
        let bytes = event.encoded(keepAlive: true)
        let headEnd = bytes.count - 114

        /// How a slow connection ended: closed by the server, or answered with this status.
        enum Ending: Equatable { case closed, answered(Int) }
        @Sendable func ending(_ connection: HTTPTestConnection) async -> Ending {
            do { return .answered(try await connection.readResponse().status) } catch { return .closed }
        }
        let endings = Mutex<[String: [Ending]]>([:])
        try await siege.run(bound: .seconds(60)) {
            try await withThrowingTaskGroup(of: (String, Ending).self) { group in
                for _ in 0..<50 {
                    group.addTask {
                        let connection = try await HTTPTestConnection(port: port)
                        let writer = Task {
                            for byte in bytes.prefix(headEnd) {
                                try await connection.write([byte])
                                try await Task.sleep(for: .milliseconds(200))
                            }
                        }
                        defer { writer.cancel() }
                        return ("headers", await ending(connection))
                    }
                    group.addTask {
                        let connection = try await HTTPTestConnection(port: port)
                        return ("silent", await ending(connection))
                    }
                    group.addTask {
                        let connection = try await HTTPTestConnection(port: port)
                        try await connection.write(Array(bytes.prefix(headEnd)))
                        let writer = Task {
                            for byte in bytes.suffix(114) {
                                try await Task.sleep(for: .milliseconds(200))
                                try await connection.write([byte])
                            }
                        }
                        defer { writer.cancel() }
                        return ("body", await ending(connection))
                    }
                    group.addTask {
                        let connection = try await HTTPTestConnection(port: port)
                        let first = try await connection.send(HTTPTestRequest("GET", "/healthz"))
                        #expect(first.status == 200)
                        return ("idle", await ending(connection))
                    }
                }
                for try await (kind, end) in group { endings.withLock { $0[kind, default: []].append(end) } }
            }
        }
        let seen = endings.withLock { $0 }
        #expect(seen["headers"] == Array(repeating: .closed, count: 50))
        #expect(seen["silent"] == Array(repeating: .closed, count: 50))
        #expect(seen["idle"] == Array(repeating: .closed, count: 50))
        #expect(seen["body"] == Array(repeating: .answered(408), count: 50))
        let metrics = try await HTTPTestRequest("GET", "/metrics").send(port: port).text
        #expect(metrics.contains(#"herald_connections_closed_total{reason="header_timeout"} 100"#), "\(metrics)")
        #expect(metrics.contains(#"herald_connections_closed_total{reason="idle_timeout"} 50"#), "\(metrics)")
        #expect(metrics.contains("herald_ingest_in_flight 0.0"))
        #expect(try await siege.snapshot() == before)
        try await harness.stop()
    }

    /// Forty bodies of a megabyte at once, against a body budget of eight: the ones that do not fit are
    /// answered 429 with Retry-After before their bodies are read; the others are taken. Half the clients
    /// ask for the connection to close after the answer: their refused bodies, which no route reads, must
    /// still be read and dropped, or those clients block sending them and never see the 429.
    @Test func aBurstOfLargeBodiesStaysWithinTheBudget() async throws {
        let harness = try await Harness.start(rules: ActionTests.rules, server: ["ingest_body_budget_bytes: 8388608"])
        let siege = Siege(harness: harness)
        let before = try await siege.snapshot()
        let padding = String(repeating: "p", count: 400_000)
        let large = HTTPTestRequest(
            "POST", "/api/v1/events", headers: [("Authorization", "Bearer wk-2")],
            json: #"{"message": "large", "extra": {"a": "\#(padding)", "b": "\#(padding)"}}"#)
        let answers = Mutex<[HTTPTestResponse]>([])
        try await siege.run(bound: .seconds(30), bystanderBound: .seconds(20)) {
            let responses = try await withThrowingTaskGroup(of: HTTPTestResponse.self) { group in
                for index in 0..<40 {
                    group.addTask {
                        let connection = try await HTTPTestConnection(port: siege.port)
                        try await connection.write(large.encoded(keepAlive: index % 2 == 0))
                        let response = try await connection.readResponse()
                        await connection.close()
                        return response
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            answers.withLock { $0 = responses }
        }
        let statuses = answers.withLock { $0 }.map(\.status)
        #expect(statuses.allSatisfy { $0 == 200 || $0 == 429 }, "\(statuses)")
        #expect(statuses.contains(429))
        for refused in answers.withLock({ $0 }) where refused.status == 429 {
            #expect(refused.headers["retry-after"] != nil)
        }
        #expect(try await siege.snapshot() == before)
        try await harness.stop()
    }

    /// Bodies larger than the sockets' buffers, refused before they are read, from clients that ask for the
    /// connection to close after the answer and read it only once their body is sent: the refused bodies are
    /// read and dropped, so every client gets its answer. Left unread, those clients blocked sending until the
    /// idle deadline closed them, and never saw the 429.
    @Test func aRefusedBodyIsReadAndDropped() async throws {
        let size = 24 << 20
        let harness = try await Harness.start(
            rules: ActionTests.rules, server: ["max_body_bytes: \(size + 4096)", "ingest_body_budget_bytes: \(size + 4096)"])
        let siege = Siege(harness: harness)
        let padding = String(repeating: "p", count: 400_000)
        let extra = (0..<(size / 400_010)).map { #""k\#($0)": "\#(padding)""# }.joined(separator: ", ")
        let large = HTTPTestRequest(
            "POST", "/api/v1/events", headers: [("Authorization", "Bearer wk-2")],
            json: #"{"message": "huge", "extra": {\#(extra)}}"#)
        let bytes = large.encoded(keepAlive: false)
        let statuses = Mutex<[Int]>([])
        try await siege.run(bound: .seconds(45), bystanderBound: .seconds(20)) {
            let answers = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await blockingExchange(port: siege.port, bytes)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            statuses.withLock { $0 = answers }
        }
        let seen = statuses.withLock { $0 }
        #expect(seen.count == 4)
        #expect(!seen.contains(0), "\(seen)")
        #expect(seen.filter { $0 == 429 }.count >= 1, "\(seen)")
        try await harness.stop()
    }

    /// A rule whose pattern costs n⁴ steps, and thirty events made to hit it at once: each match gives up at
    /// the limit, ingestion goes on, and the hits are counted. A rule file with a pattern that backtracks
    /// exponentially is refused at reload, and the rules in force stay.
    @Test func costlyPatternsAreBoundedAndCatastrophicOnesRefused() async throws {
        let rules = """
            project: payments
            rules:
              - name: Not costly
                when: [every_event]
                if:
                  - attribute: {name: message, not_matches: "^a*a*a*a*$"}
                then:
                  - webhook: {name: pager}
            """
        let harness = try await Harness.start(rules: rules, extra: fastDelivery + "\nregex: {match_limit: 10000}")
        let siege = Siege(harness: harness)
        let version = harness.server.server.rules.engine.ruleSet.version
        let pathological = HTTPTestRequest(
            "POST", "/api/v1/events", headers: [paymentsKey],
            json: #"{"message": "\#(String(repeating: "a", count: 2_000))!"}"#)
        let answers = Mutex<[HTTPTestResponse]>([])
        try await siege.run(bound: .seconds(60)) {
            let responses = try await concurrently(Array(repeating: pathological, count: 30), port: siege.port)
            answers.withLock { $0 = responses }
        }
        #expect(answers.withLock { $0 }.map(\.status) == Array(repeating: 200, count: 30))
        let listed = try await harness.server.admin("/-/rules").json["rules"] as? [[String: Any]]
        #expect(listed?.first?["regex_limit_hits"] as? Int == 30)

        let before = try await siege.snapshot()
        harness.server.directory.write("rules/payments.yaml", rules.replacingOccurrences(of: "^a*a*a*a*$", with: "^(a|aa)+$"))
        let reload = try await harness.server.admin("/-/reload", method: "POST")
        #expect(reload.status == 400 || reload.status == 422, "\(reload.text)")
        #expect(reload.text.contains("backtracks catastrophically"), "\(reload.text)")
        #expect(harness.server.server.rules.engine.ruleSet.version == version)
        #expect(try await siege.snapshot() == before)
        try await harness.stop()
    }

    /// Mattermost clicks as an attacker would send them: forged, for another issue, replayed twenty times at
    /// once with fresh trigger ids, from someone outside the channel, and with a menu choice never offered.
    /// Exactly one change is made: the one genuine click's.
    @Test func mattermostContextsAreNotBearerTokens() async throws {
        let harness = try await Harness.start(rules: ActionTests.rules)
        try await harness.send()
        _ = try await harness.settled()
        let siege = Siege(harness: harness)
        let clicks = MattermostActionTests()
        let contexts = try clicks.contexts(harness)
        // Immutable after these lines; read from the attack closures.
        nonisolated(unsafe) let resolve = try #require(contexts["resolve"])
        nonisolated(unsafe) let ignore = try #require(contexts["ignore"])
        harness.chat.removeFromMattermostChannels("mmeve")
        let before = try await siege.snapshot()

        let refusals = Mutex<[Int]>([])
        try await siege.run {
            var forged = resolve
            forged["signature"] = String(repeating: "0", count: 64)
            var otherIssue = resolve
            otherIssue["issue_id"] = 999
            var noExpiry = resolve
            noExpiry["expires"] = nil
            var statuses: [Int] = []
            for context in [forged, otherIssue, noExpiry] {
                statuses.append(try await clicks.click(harness, user: "mmalice", context: context).status)
            }
            let outsider = try await clicks.click(harness, user: "mmeve", context: resolve)
            #expect((outsider.json["ephemeral_text"] as? String)?.contains("Only members of this channel") == true)
            let unoffered = try await clicks.click(harness, user: "mmalice", context: ignore, choice: "ignore:7days")
            #expect((unoffered.json["ephemeral_text"] as? String)?.contains("Ignored") != true, "\(unoffered.text)")
            #expect(try await harness.store.issue("PAYMENTS-1")?.status == .unresolved)
            refusals.withLock { $0 = statuses }
        }
        #expect(refusals.withLock { $0 } == [401, 401, 401])
        #expect(try await siege.snapshot() == before)

        // Twenty replays of one genuine click at once, each with its own trigger id: one change, one record.
        let replies = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    try await clicks.click(harness, user: "mmalice", context: resolve).json["ephemeral_text"] as? String ?? ""
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(replies.filter { $0 == "PAYMENTS-1: Resolved by Alice via Mattermost." }.count == 1, "\(replies)")
        let issue = try #require(try await harness.store.issue("PAYMENTS-1"))
        #expect(issue.status == .resolved)
        let history = try await harness.store.actions(issue: issue.id)
        #expect(history.filter { $0.action == "resolve" }.count == 1, "\(history.map(\.action))")
        try await harness.stop()
    }

    /// A second server on the same database, started while the first serves: refused at once with the
    /// reason, and the first goes on serving.
    @Test func aSecondServerOnTheSameDatabaseIsRefused() async throws {
        let harness = try await Harness.start(rules: ActionTests.rules)
        let siege = Siege(harness: harness)
        try await siege.run(bound: .seconds(30)) {
            let config = RunningServer.configYAML(directory: harness.server.directory.path, chat: harness.chat)
            do {
                let second = try await RunningServer(
                    rules: ["payments.yaml": ActionTests.rules], configYAML: config, directory: harness.server.directory)
                try await second.stop()
                Issue.record("a second server started on the same database")
            } catch let held as ServerLock.Held {
                #expect("\(held)".contains("herald.sqlite"), "\(held)")
            }
        }
        try await harness.stop()
    }

    /// Fifty events at once for fifty new issues, with the chat double failing, rate limiting and answering
    /// slowly in turn: every message is posted exactly once.
    @Test func noMessageIsPostedTwiceUnderFailures() async throws {
        let chat = try await RunningServer.chatDouble()
        for _ in 0..<10 {
            chat.script("*", .status(500), .rateLimited(retryAfter: 1), .delay(.milliseconds(300)), .status(503))
        }
        let harness = try await Harness.start(rules: ActionTests.rules, chat: chat)
        let siege = Siege(harness: harness)
        try await siege.run(bound: .seconds(60)) {
            let events = (0..<50).map { index in
                HTTPTestRequest("POST", "/api/v1/events", headers: [paymentsKey],
                                json: #"{"message": "failure \#(index)", "fingerprint": ["f\#(index)"]}"#)
            }
            let statuses = try await concurrently(events, port: siege.port).map(\.status)
            #expect(statuses == Array(repeating: 200, count: 50))
        }
        let settled = try await harness.settled(timeout: .seconds(90))
        #expect(settled.allSatisfy { $0.status == .delivered }, "\(settled.filter { $0.status != .delivered })")
        let posts = chat.messages.filter { $0.threadRef == nil }
        var perIssueAndChannel: [String: Int] = [:]
        for post in posts {
            let text = String(decoding: post.body, as: UTF8.self)
            let issue = text.firstMatch(of: /PAYMENTS-[0-9]+/).map { String($0.output) } ?? "?"
            perIssueAndChannel["\(post.workspace) \(post.channelID) \(issue)", default: 0] += 1
        }
        #expect(posts.count == 150, "\(posts.count) posts for 50 issues in 3 channels")
        #expect(perIssueAndChannel.values.allSatisfy { $0 == 1 }, "\(perIssueAndChannel.filter { $0.value > 1 })")
        try await harness.stop()
    }

    /// A webhook target (anyone's server) that answers 429 with a `Retry-After` of 1e300, inf, twenty digits,
    /// a negative number or nan: the first three once reached a conversion that traps. The wait is held within
    /// a year and reported in the delivery's error; the nonsense ones count as no header; the server goes on.
    @Test(arguments: [("1e300", true), ("inf", true), ("99999999999999999999", true), ("-5", false), ("nan", false)])
    func aHostileTargetsRetryAfterCannotTrapDelivery(_ value: String, heldToAYear: Bool) async throws {
        let served = Atomic<Int>(0)
        let router = Router()
        router.post("/hook") { _, _ -> Response in
            served.add(1, ordering: .relaxed)
            return Response(status: .tooManyRequests, headers: [.retryAfter: value])
        }
        let target = await LoopbackServer(router: router)
        let rules = """
            project: payments
            rules:
              - name: Every failure
                when: [first_seen]
                then:
                  - webhook: {name: pager}
            """
        let chat = try await RunningServer.chatDouble()
        let directory = TemporaryDirectory()
        let config = RunningServer.configYAML(directory: directory.path, extra: fastDelivery, chat: chat)
            .replacingOccurrences(of: chat.webhookURL("pager"), with: "http://127.0.0.1:\(target.port)/hook")
        let server = try await RunningServer(rules: ["payments.yaml": rules], configYAML: config, directory: directory)
        let harness = Harness(chat: chat, server: server)
        try await Siege(harness: harness).run {
            #expect(try await server.postEvent(#"{"message": "hostile"}"#).status == 200)
            try await eventually("the webhook to be answered") { served.load(ordering: .relaxed) >= 1 }
        }
        try await eventually("the answer recorded") {
            try await harness.deliveries().contains { $0.lastError != nil }
        }
        let delivery = try #require(try await harness.deliveries().first)
        // A year's wait is past delivery.give_up_after_hours: the delivery is given up at once, with the reason.
        #expect(heldToAYear ? delivery.status == .dead : delivery.status == .retrying || delivery.status == .pending,
                "\(delivery.status)")
        let error = delivery.lastError ?? ""
        #expect(error.contains("retry after 31536000 s") == heldToAYear, "\(error)")
        try await harness.stop()
        try await target.stop()
    }

    /// The smaller ones, together: a gzip bomb, an envelope that would open hundreds of issues at once, and a
    /// signed Slack command replayed.
    @Test func bombsFloodsAndReplays() async throws {
        let harness = try await Harness.start(
            rules: ActionTests.rules, server: ["new_issues: {per_minute: 1, burst: 10}"])
        try await harness.send()
        _ = try await harness.settled()
        let siege = Siege(harness: harness)
        let before = try await siege.snapshot()
        try await siege.run {
            // 64 MiB of zeros is 64 KiB of gzip: refused once it passes the body limit, without inflating the rest.
            let bomb = Compression.gzip(
                Array(#"{"message": "#.utf8) + [UInt8](repeating: 0x20, count: 64 << 20) + Array(#""}"#.utf8))
            let bombed = try await harness.server.send(HTTPTestRequest(
                "POST", "/api/v1/events", headers: [paymentsKey, ("Content-Encoding", "gzip")], body: bomb))
            #expect(bombed.status == 413, "\(bombed.text)")

            let flood = Envelope.build(items: (0..<300).map { index in
                ("event", #"{"message": "flood \#(index)", "fingerprint": ["flood-\#(index)"]}"#)
            })
            let flooded = try await harness.server.send(HTTPTestRequest(
                "POST", "/api/1/envelope/", headers: [sentryAuth], body: flood))
            #expect(flooded.status == 429, "\(flooded.text)")
            #expect(flooded.headers["retry-after"] != nil)
        }
        // The burst of ten was taken (one by the first event), the other 291 refused.
        let issues = try await harness.store.issues(IssueQuery(projectID: 1, limit: 500)).issues
        #expect(issues.count == 10)
        #expect(Array(try await siege.snapshot().prefix(1)) == Array(before.prefix(1)))
        try await harness.stop()
    }
}
