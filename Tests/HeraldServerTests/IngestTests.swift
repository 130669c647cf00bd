import Foundation
import HeraldStore
@testable import HeraldServer
import HeraldTestSupport
import Testing

/// A rule that fires on new, regressed and reappeared issues of payments into two workspaces, three channels.
let paymentsRules = """
    project: payments
    rules:
      - name: New payment errors
        when: [first_seen, regression, reappeared]
        frequency: 1m
        then:
          - slack: {workspace: acme, channels: ["#payments", "#oncall"], tags: [region]}
          - slack: {workspace: globex, channels: ["#alerts"]}
    """

let sentryAuth = ("X-Sentry-Auth", "Sentry sentry_key=pk-1, sentry_version=7, sentry_client=sentry.python/2.75.0")

func hexID(_ number: Int) -> String {
    let digits = String(number, radix: 16)
    return String(repeating: "0", count: 32 - digits.count) + digits
}

@Suite struct IngestTests {
    @Test func ownEventCreatesIssueFiringAndOneOutboxRowPerChannel() async throws {
        let server = try await RunningServer(rules: ["payments.yaml": paymentsRules])
        let response = try await server.postEvent(#"""
            {"message": "Card 4242 declined for order 991", "level": "error", "tags": {"region": "eu"},
             "environment": "production", "release": "1.0", "user": {"id": 7}}
            """#)
        #expect(response.status == 200)
        let eventID = try #require(response.json["id"] as? String)
        #expect(eventID.count == 32)

        let issue = try await server.admin("/api/v1/issues/PAYMENTS-1").json
        #expect(issue["title"] as? String == "Card 4242 declined for order 991")
        #expect(issue["times_seen"] as? Int == 1)
        #expect(issue["users_seen"] as? Int == 1)
        #expect(issue["status"] as? String == "unresolved")
        #expect(issue["substatus"] as? String == "new")
        let firings = try #require(issue["firings"] as? [[String: Any]])
        #expect(firings.map { $0["rule"] as? String } == ["New payment errors"])
        #expect(firings.first?["state"] as? String == "new")
        let deliveries = try #require(issue["deliveries"] as? [[String: Any]])
        let destinations = Set(deliveries.map { "\($0["target"]!) \($0["channel"]!)" })
        #expect(destinations == ["acme #payments", "acme #oncall", "globex #alerts"])
        #expect(deliveries.count == 3)
        #expect(deliveries.allSatisfy { $0["status"] as? String == "pending" && $0["event_id"] as? String == eventID })
        #expect(deliveries.first { $0["target"] as? String == "acme" }?["tags"] as? [String] == ["region"])
        try await server.stop()
    }

    @Test func envelopeKeepsEventItemsAndDropsTheRest() async throws {
        let server = try await RunningServer(rules: ["payments.yaml": paymentsRules])
        let body = Envelope.build(
            header: #"{"event_id":"\#(hexID(1))","sent_at":"2026-11-23T10:00:00Z","dsn":"http://pk-1@localhost/1"}"#,
            items: [
                ("session", #"{"sid":"abc","status":"ok"}"#),
                ("event", Envelope.errorEvent(id: hexID(1))),
                ("attachment", "plain bytes\nwith a newline"),
                ("client_report", #"{"discarded_events":[]}"#),
            ])
        let response = try await server.send(HTTPTestRequest(
            "POST", "/api/1/envelope/", headers: [sentryAuth, ("Content-Type", "application/x-sentry-envelope")],
            body: body))
        #expect(response.status == 200)
        #expect(response.json["id"] as? String == hexID(1))
        #expect(try await server.server.store.hasEvent(project: 1, eventID: hexID(1)))
        let list = try await server.admin("/api/v1/issues").json["issues"] as? [[String: Any]]
        #expect(list?.count == 1)
        #expect(list?.first?["title"] as? String == "ValueError: invalid literal for int(): 'abc'")
        #expect(list?.first?["culprit"] as? String == "shop.payments in charge")
        try await server.stop()
    }

    @Test func itemsWithoutLengthRunToTheNewline() async throws {
        let server = try await RunningServer(rules: [:])
        let body = Envelope.build(
            items: [("event", Envelope.errorEvent(id: hexID(2))), ("event", Envelope.errorEvent(id: hexID(3)))],
            withLength: false)
        let response = try await server.send(HTTPTestRequest("POST", "/api/1/envelope/", headers: [sentryAuth], body: body))
        #expect(response.status == 200)
        #expect(try await server.server.store.hasEvent(project: 1, eventID: hexID(2)))
        #expect(try await server.server.store.hasEvent(project: 1, eventID: hexID(3)))
        try await server.stop()
    }

    @Test func storeEndpointTakesTheKeyFromTheQuery() async throws {
        let server = try await RunningServer(rules: [:])
        let response = try await server.send(HTTPTestRequest(
            "POST", "/api/1/store/?sentry_key=pk-1&sentry_version=7", json: Envelope.errorEvent(id: hexID(4))))
        #expect(response.status == 200)
        #expect(response.json["id"] as? String == hexID(4))
        try await server.stop()
    }

    @Test(arguments: ["gzip", "deflate", "deflate-raw"])
    func compressedBodies(encoding: String) async throws {
        let server = try await RunningServer(rules: [:])
        let plain = Envelope.build(items: [("event", Envelope.errorEvent(id: hexID(5)))])
        let body: [UInt8] = switch encoding {
        case "gzip": Compression.gzip(plain)
        case "deflate": Compression.zlib(plain)
        default: Array(Compression.zlib(plain).dropFirst(2).dropLast(4))  // raw deflate, as some clients send
        }
        let header = encoding == "gzip" ? "gzip" : "deflate"
        let response = try await server.send(HTTPTestRequest(
            "POST", "/api/1/envelope/", headers: [sentryAuth, ("Content-Encoding", header)], body: body))
        #expect(response.status == 200, "\(response.text)")
        #expect(try await server.server.store.hasEvent(project: 1, eventID: hexID(5)))
        try await server.stop()
    }

    /// A gzip body of several members is their concatenation (RFC 1952), as gunzip reads it: the second
    /// member, here holding the envelope's second event, was once dropped without a word.
    @Test func aGzipBodyOfSeveralMembersIsReadWhole() async throws {
        let server = try await RunningServer(rules: [:])
        let plain = Envelope.build(items: [
            ("event", Envelope.errorEvent(id: hexID(6), value: "first")),
            ("event", Envelope.errorEvent(id: hexID(7), value: "second")),
        ])
        let middle = plain.count / 2
        let body = Compression.gzip(Array(plain[..<middle])) + Compression.gzip(Array(plain[middle...]))
        let response = try await server.send(HTTPTestRequest(
            "POST", "/api/1/envelope/", headers: [sentryAuth, ("Content-Encoding", "gzip")], body: body))
        #expect(response.status == 200, "\(response.text)")
        #expect(try await server.server.store.hasEvent(project: 1, eventID: hexID(6)))
        #expect(try await server.server.store.hasEvent(project: 1, eventID: hexID(7)))
        try await server.stop()
    }

    @Test func eventsFromOneCodePathGroupTogether() async throws {
        let server = try await RunningServer(rules: [:])
        let events = [
            Envelope.errorEvent(id: hexID(10), value: "no order 1234", lineno: 42),
            Envelope.errorEvent(id: hexID(11), value: "no order 98765", lineno: 57),
            Envelope.errorEvent(id: hexID(12), value: "no order 5", function: "refund", lineno: 42),
        ]
        for event in events {
            let response = try await server.send(HTTPTestRequest(
                "POST", "/api/1/envelope/", headers: [sentryAuth], body: Envelope.build(items: [("event", event)])))
            #expect(response.status == 200)
        }
        let messages = [
            #"{"message": "Timeout after 3000 ms talking to 10.0.0.12 (request 5f0c6a2e-8b1d-4c7e-9a11-2d3b4c5d6e7f)"}"#,
            #"{"message": "Timeout after 1500 ms talking to 10.0.0.99 (request 0b8a7c6d-1e2f-4a5b-8c9d-0e1f2a3b4c5d)"}"#,
            #"{"message": "Timeout after 20 ms talking to cache 0xdeadbeef"}"#,
        ]
        for message in messages { #expect(try await server.postEvent(message).status == 200) }

        let issues = try #require(try await server.admin("/api/v1/issues?limit=10").json["issues"] as? [[String: Any]])
        let counts = issues.map { ($0["title"] as! String, $0["times_seen"] as! Int) }.sorted { $0.0 < $1.0 }
        #expect(counts.map(\.1) == [1, 2, 2, 1])
        #expect(counts.map(\.0) == [
            "Timeout after 20 ms talking to cache 0xdeadbeef",
            "Timeout after 3000 ms talking to 10.0.0.12 (request 5f0c6a2e-8b1d-4c7e-9a11-2d3b4c5d6e7f)",
            "ValueError: no order 1234",
            "ValueError: no order 5",
        ])
        try await server.stop()
    }

    @Test func fingerprintWithDefaultExtendsTheDefaultGrouping() async throws {
        let server = try await RunningServer(rules: [:])
        for (index, tenant) in ["a", "a", "b"].enumerated() {
            let response = try await server.postEvent(#"""
                {"event_id": "\#(hexID(20 + index))", "message": "quota exceeded", "fingerprint": ["{{ default }}", "\#(tenant)"]}
                """#)
            #expect(response.status == 200)
        }
        #expect(try await server.postEvent(#"{"message": "quota exceeded"}"#).status == 200)
        let issues = try #require(try await server.admin("/api/v1/issues").json["issues"] as? [[String: Any]])
        #expect(issues.map { $0["times_seen"] as! Int }.sorted() == [1, 1, 2])
        try await server.stop()
    }

    @Test func aRepeatedEventIDIsStoredOnce() async throws {
        let server = try await RunningServer(rules: ["payments.yaml": paymentsRules])
        for _ in 0..<2 {
            let response = try await server.postEvent(#"{"event_id": "\#(hexID(30))", "message": "once"}"#)
            #expect(response.status == 200)
            #expect(response.json["id"] as? String == hexID(30))
        }
        let issue = try await server.admin("/api/v1/issues/PAYMENTS-1").json
        #expect(issue["times_seen"] as? Int == 1)
        #expect((issue["deliveries"] as? [Any])?.count == 3)
        try await server.stop()
    }

    @Test func aFullIngestQueueAnswers429BeforeReadingTheBody() async throws {
        let directory = TemporaryDirectory()
        let config = RunningServer.configYAML(directory: directory.path).replacingOccurrences(
            of: "  port: 0", with: "  port: 0\n  ingest_queue: 1")
        let server = try await RunningServer(rules: [:], configYAML: config, directory: directory)
        let json = #"{"message": "slow upload"}"#
        let slow = try await HTTPTestConnection(port: server.port)
        let request = HTTPTestRequest("POST", "/api/v1/events", headers: [("Authorization", "Bearer pk-1")], json: json)
        let bytes = request.encoded(keepAlive: false)
        // Everything but the last 5 bytes: the server has admitted the request and waits for its body.
        try await slow.write(Array(bytes.dropLast(5)))
        // Wait until the server has admitted it: the one place in the queue is taken.
        while !server.server.metrics.registry.emitToString().contains("herald_ingest_in_flight 1.0") {
            try await Task.sleep(for: .milliseconds(10))
        }
        let response = try await server.postEvent(#"{"message": "second"}"#)
        #expect(response.status == 429)
        #expect(response.headers["retry-after"] == "1")
        #expect(response.json["error"] as? String != nil)
        let saturated = try await HTTPTestRequest("GET", "/healthz").send(port: server.port)
        #expect(saturated.status == 503)
        #expect((saturated.json["ingest"] as? [String: Any])?["status"] as? String
            == "refusing: every place in the queue is taken")
        try await slow.write(Array(bytes.suffix(5)))
        #expect(try await slow.readResponse().status == 200)
        await slow.close()
        #expect(try await server.postEvent(#"{"message": "second"}"#).status == 200)
        let issues = try #require(try await server.admin("/api/v1/issues").json["issues"] as? [[String: Any]])
        #expect(Set(issues.map { $0["title"] as! String }) == ["slow upload", "second"])
        try await server.stop()
    }

    /// A client that sends its body a byte at a time once held its place in the ingest queue for as long as it
    /// liked, while everyone else got 429 and /healthz said all was well. Now its body has a deadline, and
    /// /healthz says when ingestion is refusing work.
    @Test func aClientThatTricklesItsBodyLosesItsPlace() async throws {
        let directory = TemporaryDirectory()
        let config = RunningServer.configYAML(directory: directory.path).replacingOccurrences(
            of: "  port: 0", with: "  port: 0\n  ingest_queue: 1\n  body_timeout_seconds: 1")
        let server = try await RunningServer(rules: [:], configYAML: config, directory: directory)
        let slow = try await HTTPTestConnection(port: server.port)
        let bytes = HTTPTestRequest(
            "POST", "/api/v1/events", headers: [("Authorization", "Bearer pk-1")],
            json: #"{"message": "\#(String(repeating: "x", count: 200))"}"#
        ).encoded(keepAlive: false)
        let headerEnd = bytes.count - 200
        try await slow.write(Array(bytes.prefix(headerEnd)))
        try await eventually(timeout: .seconds(30), "the slow request admitted") {
            server.server.metrics.registry.emitToString().contains("herald_ingest_in_flight 1.0")
        }
        // A byte every 100 ms: never idle, never done. (That the place is taken meanwhile, and /healthz says
        // so, is aFullIngestQueueAnswers429BeforeReadingTheBody's to show: here the one-second deadline may pass first on a loaded
        // machine.)
        let trickle = Task {
            for byte in bytes.suffix(200).dropLast(1) {
                try await Task.sleep(for: .milliseconds(100))
                try await slow.write([byte])
            }
        }
        // Bounded, so a server without the deadline fails this test rather than hanging it.
        let reply = try await withThrowingTaskGroup(of: HTTPTestResponse?.self) { group in
            group.addTask { try await slow.readResponse() }
            group.addTask {
                try await Task.sleep(for: .seconds(30))
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
        trickle.cancel()
        let answer = try #require(reply, "no answer to the trickling client within 30 s")
        #expect(answer.status == 408, "\(answer.text)")
        #expect(answer.json["error"] as? String == "the body did not arrive within 1 s (server.body_timeout_seconds)")
        await slow.close()
        #expect(try await server.postEvent(#"{"message": "after"}"#).status == 200)
        #expect(try await HTTPTestRequest("GET", "/healthz").send(port: server.port).status == 200)
        let issues = try #require(try await server.admin("/api/v1/issues").json["issues"] as? [[String: Any]])
        #expect(issues.map { $0["title"] as? String } == ["after"])
        try await server.stop()
    }

    @Test func aGracefulShutdownFinishesTheRequestsInFlight() async throws {
        let server = try await RunningServer(rules: ["payments.yaml": paymentsRules])
        let request = HTTPTestRequest("POST", "/api/v1/events", headers: [("Authorization", "Bearer pk-1")],
                                      json: #"{"message": "in flight at shutdown"}"#)
        let bytes = request.encoded(keepAlive: false)
        let connection = try await HTTPTestConnection(port: server.port)
        try await connection.write(Array(bytes.dropLast(3)))
        // Wait until the request is admitted, so it is in flight when the shutdown begins.
        while server.server.metrics.registry.emitToString().contains("herald_ingest_in_flight 1.0") == false {
            try await Task.sleep(for: .milliseconds(10))
        }
        await server.beginShutdown()
        try await connection.write(Array(bytes.suffix(3)))
        let response = try await connection.readResponse()
        #expect(response.status == 200)
        try await server.stopped()
        let eventID = try #require(response.json["id"] as? String)
        #expect(try await server.server.store.hasEvent(project: 1, eventID: eventID))
        #expect(try await server.server.store.outboxDepth() == 3)
    }
}

@Suite struct SentryAuthTests {
    @Test(arguments: [
        ("Sentry sentry_key=abc, sentry_version=7, sentry_client=sentry.python/2.75.0", "abc"),
        ("Sentry sentry_version=7,sentry_key=k-1", "k-1"),
        ("sentry_key=only", "only"),
        ("Sentry  sentry_client=x ,  sentry_key=spaced , sentry_version=7", "spaced"),
        ("Sentry sentry_key=, sentry_version=7", nil),
        ("Sentry sentry_secret=s, sentry_version=7", nil),
        ("Bearer abc", nil),
    ] as [(String, String?)])
    func readsTheKeyFromTheHeader(header: String, key: String?) {
        #expect(SentryAuth.key(inHeader: header) == key)
    }
}
