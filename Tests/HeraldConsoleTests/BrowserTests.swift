import Foundation
import HeraldConsole
import HeraldTestSupport
import Testing

/// The console in a real headless browser (Debian's chromium through chromium-driver, driven by Selenium from
/// PyPI; `.ci/run` installs them): Tests/Browser/console_tour.py walks it against a real server, and this test
/// checks what only the server side can see, that the resolve clicked in the browser reached Slack.
///
/// Without chromium, chromedriver or Selenium the test is skipped, unless `HERALD_BROWSER_TESTS=required`
/// (set by `.ci/run`) makes their absence a failure. `HERALD_SCREENSHOTS=<dir>` keeps the tour's screenshots
/// (docs/screenshots holds the ones in the README).
@Suite struct BrowserTests {
    static let tour = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Browser/console_tour.py").standardized.path

    static var browserAvailable: Bool {
        let files = FileManager.default
        guard files.isExecutableFile(atPath: "/usr/bin/chromium"), files.isExecutableFile(atPath: "/usr/bin/chromedriver")
        else { return false }
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = ["python3", "-c", "import selenium"]
        python.standardOutput = FileHandle.nullDevice
        python.standardError = FileHandle.nullDevice
        guard (try? python.run()) != nil else { return false }
        python.waitUntilExit()
        return python.terminationStatus == 0
    }

    static var required: Bool { ProcessInfo.processInfo.environment["HERALD_BROWSER_TESTS"] == "required" }

    @Test(.enabled(if: required || browserAvailable, "needs chromium, chromium-driver and Selenium (.ci/run installs them)"))
    func theIssuePageInARealBrowser() async throws {
        let chat = try await RunningServer.chatDouble()
        let provider = try OpenIDProviderDouble()
        let served = await provider.start()
        let directory = TemporaryDirectory()
        let port = try FreePort.pick()
        let config = RunningServer.configYAML(directory: directory.path, extra: """
            console:
              oidc: {issuer: "\(provider.issuer)", client_id: \(provider.clientID), client_secret: \(provider.clientSecret), name: Test ID}
            """, chat: chat)
            .replacingOccurrences(of: "port: 0", with: "port: \(port)")
            .replacingOccurrences(of: "public_url: \"https://herald.example.com\"", with: "public_url: \"http://127.0.0.1:\(port)\"")
        let server = try await RunningServer(
            rules: ["payments.yaml": """
                project: payments
                rules:
                  - name: New checkout errors
                    when: [first_seen]
                    if:
                      - level: {gte: error}
                    then:
                      - slack: {workspace: acme, channels: ["#payments"]}
                """],
            configYAML: config, directory: directory)
        // A second, older issue, so the list has more than one row.
        #expect(try await server.postEvent(#"{"message": "Slow card processor", "level": "warning"}"#).status == 200)
        // Sent as a Sentry SDK sends it (store endpoint, Sentry's event shape), with a stack trace.
        let posted = try await server.send(HTTPTestRequest("POST", "/api/1/store/?sentry_key=pk-1", json: Self.event))
        #expect(posted.status == 200, "\(posted.text)")
        try await eventually("the alert is posted to Slack") { chat.messageCount == 1 }
        let alert = try #require(chat.messages.first)
        let issueURL = try #require(Self.firstIssueLink(in: alert.json), "the Slack message carries no issue link")
        #expect(issueURL == "http://127.0.0.1:\(port)/issues/2")

        provider.signIn(as: "alice@example.com")
        let stakeholderLink = try await SignInLinks(store: server.server.store, config: server.server.config)
            .issue(email: "carol@example.com", via: "test")
        var given: [String: Any] = ["issue_url": issueURL, "stakeholder_link": stakeholderLink]
        given["screenshots"] = ProcessInfo.processInfo.environment["HERALD_SCREENSHOTS"]
        let input = try JSONSerialization.data(withJSONObject: given)
        let tour = try ChildProcess("/usr/bin/env", ["python3", Self.tour, String(decoding: input, as: UTF8.self)])
        let (status, output) = await tour.result(within: .seconds(300))
        #expect(status == 0, "\(output)")
        #expect(output.contains(#""ok": true"#), "\(output)")

        // The resolve clicked in the browser took the one path: the Slack message was updated, a note posted.
        try await eventually("the Slack message shows the resolve") {
            chat.messages.first?.updates == 1 && chat.messages.contains { $0.threadRef == alert.ref }
        }
        let records = try await server.server.store.actions(issue: 2)
        #expect(records.map(\.summary) == ["Resolved by Alice via web"])
        #expect(try await server.server.store.issue("2")?.status == .resolved)
        try await server.stop()
        try await served.stop()
        try await chat.stop()
    }

    /// The first `/issues/<n>` link in a Slack message's blocks or text.
    static func firstIssueLink(in json: [String: Any]) -> String? {
        let text = String(decoding: (try? JSONSerialization.data(withJSONObject: json)) ?? Data(), as: UTF8.self)
            .replacingOccurrences(of: "\\/", with: "/")
        guard let range = text.range(of: #"https?://[^"<>|\s]+/issues/[0-9]+"#, options: .regularExpression) else { return nil }
        return String(text[range])
    }

    static let event = """
        {"level": "error", "environment": "production", "release": "payments@2.4.2", "platform": "python",
         "exception": {"values": [{"type": "KeyError", "value": "'card'", "mechanism": {"type": "django", "handled": false},
           "stacktrace": {"frames": [
             {"filename": "django/core/handlers/base.py", "function": "_get_response", "lineno": 197, "in_app": false},
             {"filename": "payments/views.py", "function": "checkout", "lineno": 88, "in_app": true,
              "context_line": "    card = request.data['card']"},
             {"filename": "payments/cards.py", "function": "charge", "lineno": 12, "in_app": true,
              "context_line": "    return gateway.charge(card)"}]}}]},
         "tags": {"region": "eu-west-1", "customer_tier": "enterprise", "browser": "Firefox 133"},
         "user": {"id": "4711", "email": "ann@example.com"},
         "request": {"url": "https://shop.example.com/checkout", "method": "POST"},
         "extra": {"cart_items": 3}}
        """
}
