import Foundation
import HeraldConfig
import HeraldRules
import HeraldServer
import HeraldTestSupport
import Testing

/// Secrets and personal data are filtered from events before they are stored or sent.
@Suite struct ScrubbingTests {
    func scrubbed(_ json: String, _ configure: (inout Config.Scrubbing) -> Void = { _ in }) throws -> String {
        var config = Config.Scrubbing()
        configure(&config)
        return String(decoding: try Scrubber(config).scrub(Data(json.utf8)), as: UTF8.self)
    }

    @Test(arguments: [
        (#"{"extra": {"password": "hunter2"}}"#, "hunter2"),
        (#"{"extra": {"db": {"MYSQL_PWD": "s3cret-value"}}}"#, "s3cret-value"),
        (#"{"request": {"headers": [["Authorization", "Basic dXNlcjpwYXNz"]]}}"#, "dXNlcjpwYXNz"),
        (#"{"request": {"headers": {"X-Api-Key": "k-123456"}}}"#, "k-123456"),
        (#"{"request": {"cookies": "sessionid=abc123def"}}"#, "abc123def"),
        (#"{"exception": {"values": [{"stacktrace": {"frames": [{"vars": {"stripe_api_key": "sk_live_51abc"}}]}}]}}"#, "sk_live_51abc"),
        (#"{"message": "charge failed for card 4111 1111 1111 1111"}"#, "4111 1111 1111 1111"),
        (#"{"message": "retry with Bearer eyJhbGciOiJIUzI1NiJ9.payload.sig"}"#, "eyJhbGciOiJIUzI1NiJ9"),
        (#"{"extra": {"dsn": "postgres://app:pa55word@db.internal/app"}}"#, "pa55word"),
        (#"{"extra": {"note": "-----BEGIN RSA PRIVATE KEY-----\nMIIE..."}}"#, "MIIE"),
        (#"{"breadcrumbs": {"values": [{"message": "token xoxb-1234567890-abcdefghij"}]}}"#, "xoxb-1234567890"),
        (#"{"tags": [["session_id", "a1b2c3"]]}"#, "a1b2c3"),
    ])
    func secretsAreFilteredByDefault(json: String, secret: String) throws {
        let result = try scrubbed(json)
        #expect(!result.contains(secret), "\(result)")
        #expect(result.contains(Scrubber.filtered), "\(result)")
    }

    @Test(arguments: [
        #"{"message": "order 1234567890123 failed"}"#,  // 13 digits that fail Luhn's check
        #"{"event_id": "00000000000000000000000000000103", "message": "id 41111111111111111111111 is longer than a card"}"#,
        #"{"extra": {"writer": "ann"}}"#,
        #"{"user": {"email": "ann@example.com", "ip_address": "10.0.0.1"}}"#,
        #"{"message": "Timeout after 30s talking to the card processor"}"#,
    ])
    func ordinaryDataIsKept(json: String) throws {
        let result = try scrubbed(json)
        #expect(!result.contains(Scrubber.filtered), "\(result)")
    }

    @Test func personalDataAndOwnFieldsWhenAsked() throws {
        let json = #"{"user": {"email": "ann@example.com", "ip_address": "10.0.0.1"}, "message": "mail bo@example.com", "extra": {"tenant": "acme", "token_count": 5}}"#
        let result = try scrubbed(json) { config in
            config.personalData = true
            config.fields = ["tenant"]
            config.safeFields = ["token_count"]
        }
        for kept in ["ann@example.com", "10.0.0.1", "bo@example.com", "acme"] { #expect(!result.contains(kept), "\(result)") }
        #expect(result.contains(#""token_count":5"#), "\(result)")
        var off = Config.Scrubbing()
        off.defaults = false
        #expect(try Scrubber(off).scrub(Data(#"{"extra": {"password": "x"}}"#.utf8)) == Data(#"{"extra": {"password": "x"}}"#.utf8))
    }

    /// A pattern of the config's own that does not compile is an error at its place in the config, before
    /// anything starts.
    @Test func aBrokenPatternIsReportedWhereItIsWritten() throws {
        let yaml = "projects: [{id: 1, slug: payments}]\nscrubbing:\n  patterns: ['\\bok\\b', '(unclosed']\n"
        let config = try ConfigLoader(environment: [:]).load(text: yaml, file: "herald.yaml")
        let problems = config.scrubbing.patternProblems.map(\.description)
        #expect(problems.count == 1)
        #expect(problems.first?.hasPrefix("herald.yaml:3:24: error: scrubbing pattern '(unclosed' does not compile") == true, "\(problems)")
    }

    /// End to end: neither the stored event nor the webhook body holds the secrets.
    @Test func nothingSecretIsStoredOrSent() async throws {
        let chat = try await RunningServer.chatDouble()
        let directory = TemporaryDirectory()
        let server = try await RunningServer(
            rules: ["payments.yaml": "project: payments\nrules:\n  - name: All\n    when: [first_seen]\n    then: [{webhook: {name: pager}}]\n"],
            configYAML: RunningServer.configYAML(directory: directory.path, chat: chat), directory: directory)
        let event = #"{"message": "card 4111-1111-1111-1111 declined", "extra": {"password": "hunter2", "order": 42}, "#
            + #""request": {"url": "https://shop.example.com/pay", "method": "POST", "headers": [["Authorization", "Bearer abcdefghijklmnop"]]}}"#
        let answer = try await server.send(HTTPTestRequest("POST", "/api/1/store/?sentry_key=pk-1", json: event))
        #expect(answer.status == 200, "\(answer.text)")
        try await eventually("the webhook is called") { !chat.requests(path: "/hooks/pager").isEmpty }
        let sent = try #require(chat.requests(path: "/hooks/pager").first).text
        let stored = try await server.admin("/api/v1/issues/1").text
        for secret in ["4111-1111-1111-1111", "hunter2", "abcdefghijklmnop"] {
            #expect(!sent.contains(secret), "\(sent)")
            #expect(!stored.contains(secret), "\(stored)")
        }
        #expect(stored.contains(Scrubber.filtered))
        #expect(stored.contains("42"))
        try await server.stop()
        try await chat.stop()
    }
}
