import HeraldCore
import Crypto
import Foundation
import HeraldChat
import Testing

@Suite struct SlackSignatureTests {
    // The known-answer vector from Slack's documentation.
    static let secret = "8f742231b10e8888abcd99yyyzzz85a5"
    static let timestamp = "1531420618"
    static let body = Array("token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c".utf8)
    static let expected = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    static let then = Date(timeIntervalSince1970: 1_531_420_618)

    @Test func matchesSlacksKnownAnswer() {
        let signing = SlackSignature(secret: Self.secret)
        #expect(signing.signature(timestamp: Self.timestamp, body: Self.body) == Self.expected)
        #expect(signing.verify(timestamp: Self.timestamp, signature: Self.expected, body: Self.body, now: Self.then) == .valid)
    }

    @Test func refusesReplaysTamperingAndMissingHeaders() {
        let signing = SlackSignature(secret: Self.secret)
        let late = Self.then.addingTimeInterval(301)
        #expect(signing.verify(timestamp: Self.timestamp, signature: Self.expected, body: Self.body, now: late) == .stale)
        #expect(signing.verify(timestamp: Self.timestamp, signature: Self.expected, body: Self.body,
                               now: Self.then.addingTimeInterval(-301)) == .stale)
        #expect(signing.verify(timestamp: Self.timestamp, signature: Self.expected, body: Self.body,
                               now: Self.then.addingTimeInterval(299)) == .valid)
        #expect(signing.verify(timestamp: Self.timestamp, signature: Self.expected, body: Self.body + [0x20],
                               now: Self.then) == .mismatch)
        #expect(signing.verify(timestamp: "1531420619", signature: Self.expected, body: Self.body, now: Self.then) == .mismatch)
        #expect(SlackSignature(secret: "other").verify(
            timestamp: Self.timestamp, signature: Self.expected, body: Self.body, now: Self.then) == .mismatch)
        #expect(signing.verify(timestamp: nil, signature: Self.expected, body: Self.body, now: Self.then) == .missing)
        #expect(signing.verify(timestamp: Self.timestamp, signature: nil, body: Self.body, now: Self.then) == .missing)
        #expect(signing.verify(timestamp: "soon", signature: Self.expected, body: Self.body, now: Self.then) == .missing)
    }

    @Test func agreesWithAnIndependentHMAC() {
        let body = Array("payload=%7B%22type%22%3A%22block_actions%22%7D".utf8)
        let code = HMAC<SHA256>.authenticationCode(for: Data("v0:1700000000:".utf8) + Data(body), using: SymmetricKey(data: Data("s3cret".utf8)))
        let expected = "v0=" + code.map { String(format: "%02x", $0) }.joined()
        #expect(SlackSignature(secret: "s3cret").signature(timestamp: "1700000000", body: body) == expected)
    }

    @Test func formBodiesDecode() {
        let fields = FormBody.parse(Self.body)
        #expect(fields["command"] == "/webhook-collect")
        #expect(fields["text"] == "")
        #expect(fields["response_url"] == "https://hooks.slack.com/commands/T1DC2JH3J/397700885554/96rGlfmibIGlgcZRskXaIFfN")
        #expect(FormBody.parse(Array("text=alert+payments+Card%20failed".utf8))["text"] == "alert payments Card failed")
    }
}

@Suite struct SlackReplayGuardTests {
    @Test func aSignedRequestCountsOnceWithinItsWindow() {
        let guard_ = SlackReplayGuard()
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let body = Array("text=alert".utf8)
        #expect(guard_.isFirst(timestamp: "1800000000", body: body, now: now))
        #expect(!guard_.isFirst(timestamp: "1800000000", body: body, now: now.addingTimeInterval(299)))
        // Another body, or another timestamp, is another request.
        #expect(guard_.isFirst(timestamp: "1800000000", body: Array("text=alert2".utf8), now: now))
        #expect(guard_.isFirst(timestamp: "1800000001", body: body, now: now))
    }
}

@Suite struct SlackResponseURLCheckTests {

    @Test(arguments: [
        ("https://hooks.slack.com/actions/T0/1/abc", true),
        ("https://hooks.slack.com:443/actions/T0/1/abc", true),
        ("http://hooks.slack.com/actions/T0/1/abc", false),
        ("https://hooks.slack.com.evil.example/x", false),
        ("https://evil.example/hooks.slack.com", false),
        ("http://127.0.0.1:8123/slack/responses/1", true),
        ("http://127.0.0.1:8124/slack/responses/1", false),
        ("http://169.254.169.254/latest/meta-data", false),
        ("not a url", false),
        ("", false),
    ])
    func onlySlackOrTheConfiguredAPIHost(_ url: String, _ allowed: Bool) {
        #expect(SlackClient.isResponseURL(url, apiURL: "http://127.0.0.1:8123/api") == allowed)
    }
}
