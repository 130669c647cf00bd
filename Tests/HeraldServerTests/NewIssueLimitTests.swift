import Foundation
import HeraldCore
import HeraldStore
import HeraldTestSupport
import Testing

@Suite struct NewIssueLimitTests {
    @Test func bucketsRefillAtTheirRateAndHoldTheirBurst() {
        let buckets = TokenBuckets<Int> { project in
            project == 1 ? .init(perSecond: 0.5, capacity: 3) : .init(perSecond: 100, capacity: 100)
        }
        let start = Date(timeIntervalSince1970: 1_000_000)
        for _ in 0..<3 { #expect(buckets.take(1, now: start) == nil) }
        #expect(buckets.take(1, now: start) == 2)
        // Another key has its own bucket.
        #expect(buckets.take(2, now: start) == nil)
        // Half a token later, the wait is halved; a whole one later, one more is taken.
        #expect(buckets.take(1, now: start + 1) == 1)
        #expect(buckets.take(1, now: start + 2) == nil)
        // A clock going backwards adds nothing.
        #expect(buckets.take(1, now: start - 1_000) != nil)
        // A long pause fills the bucket to its burst, not beyond.
        let later = start + 86_400
        for _ in 0..<3 { #expect(buckets.take(1, now: later) == nil) }
        #expect(buckets.take(1, now: later) != nil)
        buckets.giveBack(1)
        #expect(buckets.take(1, now: later) == nil)
    }

    /// One envelope carrying many events that would each open an issue: the project's burst is stored, the
    /// rest refused with 429 and `Retry-After`, events of existing issues and other projects go on.
    @Test func oneEnvelopeCannotOpenMoreIssuesThanTheLimit() async throws {
        let directory = TemporaryDirectory()
        let config = RunningServer.configYAML(directory: directory.path) + """

              new_issues: {per_minute: 1, burst: 3}
            """
        let server = try await RunningServer(rules: ["payments.yaml": paymentsRules], configYAML: config, directory: directory)
        let events = (0..<50).map { index in
            ("event", Envelope.errorEvent(id: hexID(100 + index), function: "handler\(index)"))
        }
        let flood = try await server.send(HTTPTestRequest(
            "POST", "/api/1/envelope/", headers: [sentryAuth], body: Envelope.build(items: events)))
        #expect(flood.status == 429, "\(flood.text)")
        let wait = Int(flood.headers["retry-after"] ?? "") ?? 0
        #expect((59...60).contains(wait), "Retry-After: \(wait)")
        #expect(flood.text.contains("may open 1 new issues a minute, 3 at once (new_issues); 47 event(s)"), "\(flood.text)")
        #expect(try await server.server.store.issues(IssueQuery(limit: 100)).issues.count == 3)

        // The SDK's retry stores nothing twice and opens nothing more.
        let retry = try await server.send(HTTPTestRequest(
            "POST", "/api/1/envelope/", headers: [sentryAuth], body: Envelope.build(items: events)))
        #expect(retry.status == 429)
        #expect(try await server.server.store.issues(IssueQuery(limit: 100)).issues.count == 3)

        // An event of an issue that exists is taken; so is another project's new issue.
        let known = try await server.send(HTTPTestRequest(
            "POST", "/api/1/envelope/", headers: [sentryAuth],
            body: Envelope.build(items: [("event", Envelope.errorEvent(id: hexID(999), function: "handler0"))])))
        #expect(known.status == 200, "\(known.text)")
        #expect(try await server.postEvent(#"{"message": "web is fine"}"#, key: "wk-2").status == 200)

        let metrics = try await server.send(HTTPTestRequest("GET", "/metrics")).text
        #expect(metrics.contains(#"herald_new_issues_limited_total{project="payments"} 94"#), "\(metrics)")
        #expect(metrics.contains(#"herald_events_rejected_total{reason="rate_limited"} 2"#))
        try await server.stop()
    }
}
