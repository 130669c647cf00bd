import Foundation
import HeraldConsole
import HeraldStore
import HeraldTestSupport
import Testing

/// The console over real HTTP on a real server: sign-in, sessions, CSRF, roles, and actions that reach chat.
@Suite struct ConsoleTests {
    /// A server whose one rule posts every new payments issue to acme's #payments on `chat`.
    static func sendingToSlack(_ chat: ChatDouble) async throws -> RunningServer {
        let directory = TemporaryDirectory()
        return try await RunningServer(
            rules: ["payments.yaml": """
                project: payments
                rules:
                  - name: Everything to Slack
                    when: [first_seen]
                    then:
                      - slack: {workspace: acme, channels: ["#payments"]}
                """],
            configYAML: RunningServer.configYAML(directory: directory.path, chat: chat), directory: directory)
    }

    @Test func aSignedOutVisitGoesToSignInAndComesBack() async throws {
        let server = try await RunningServer(rules: [:])
        #expect(try await server.postEvent(#"{"message": "checkout failed"}"#).status == 200)
        let browser = ConsoleBrowser(server: server)
        for path in ["/issues", "/issues/1", "/rules", "/deliveries"] {
            let answer = try await browser.get(path)
            #expect(answer.status == 302, "\(path)")
            #expect(answer.headers["location"] == "/login?next=" + FormEncoding.escape(path))
        }
        let link = try await SignInLinks(store: server.server.store, config: server.server.config)
            .issue(email: "bob@example.com", via: "test", next: "/issues/1")
        let url = try #require(URLComponents(string: link))
        let page = try await browser.get(url.path + "?" + (url.percentEncodedQuery ?? ""))
        #expect(page.status == 200)
        #expect(page.text.contains("Continue as bob@example.com"))
        // Opening the link does not spend it; the button does, and returns to the page asked for.
        let token = String(url.path.split(separator: "/").last ?? "")
        let answer = try await browser.post("/login/link", [("token", token), ("next", "/issues/1")])
        #expect(answer.status == 303)
        #expect(answer.headers["location"] == "/issues/1")
        let cookie = try #require(answer.headers["set-cookie"])
        #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Secure"))
        let issue = try await browser.get("/issues/1")
        #expect(issue.status == 200)
        #expect(issue.text.contains("checkout failed"))
        try await server.stop()
    }

    /// After sign-in Herald sends the browser only to a path of its own: never to another site.
    @Test(arguments: ["//evil.example.com", "/\\evil.example.com", "/\t/evil.example.com", "https://evil.example.com",
                      "/\n/evil.example.com", "javascript:alert(1)", ""])
    func signInNeverRedirectsAway(next: String) async throws {
        let server = try await RunningServer(rules: [:])
        let link = try await SignInLinks(store: server.server.store, config: server.server.config).issue(email: "alice@example.com", via: "test")
        let token = String(link.split(separator: "/").last ?? "")
        let browser = ConsoleBrowser(server: server)
        let answer = try await browser.post("/login/link", [("token", token), ("next", next)])
        #expect(answer.status == 303)
        #expect(answer.headers["location"] == "/issues")
        try await server.stop()
    }

    @Test func aOneTimeLinkSignsInOnce() async throws {
        let server = try await RunningServer(rules: [:])
        let link = try await SignInLinks(store: server.server.store, config: server.server.config).issue(email: "alice@example.com", via: "test")
        let token = String(link.split(separator: "/").last ?? "")
        let first = ConsoleBrowser(server: server)
        #expect(try await first.post("/login/link", [("token", token)]).status == 303)
        let replay = ConsoleBrowser(server: server)
        let again = try await replay.post("/login/link", [("token", token)])
        #expect(again.status == 403)
        #expect(replay.cookies["herald_session"] == nil)
        #expect(try await replay.get("/login/link/" + token).text.contains("already used"))
        #expect(try await replay.post("/login/link", [("token", "made-up")]).status == 403)

        // A form on another site that would sign this browser in as the link's owner.
        let other = try await SignInLinks(store: server.server.store, config: server.server.config).issue(email: "bob@example.com", via: "test")
        let crossSite = try await server.send(HTTPTestRequest(
            "POST", "/login/link",
            headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Origin", "https://evil.example.com")],
            body: Array("token=\(other.split(separator: "/").last ?? "")".utf8)))
        #expect(crossSite.status == 403)
        #expect(crossSite.headers["set-cookie"] == nil)
        try await server.stop()
    }

    @Test func anExpiredLinkIsRefused() async throws {
        let server = try await RunningServer(rules: [:])
        let token = ConsoleSecrets.token()
        try await server.server.store.issueSignInLink(
            tokenHash: ConsoleSecrets.hash(token), email: "alice@example.com", via: "test", lifetime: 600,
            now: Date().addingTimeInterval(-3_600))
        let browser = ConsoleBrowser(server: server)
        #expect(try await browser.get("/login/link/" + token).text.contains("expired"))
        #expect(try await browser.post("/login/link", [("token", token)]).status == 403)
        #expect(browser.cookies["herald_session"] == nil)
        try await server.stop()
    }

    @Test func aTamperedOrExpiredSessionSignsNoOneIn() async throws {
        let server = try await RunningServer(rules: [:])
        let browser = ConsoleBrowser(server: server)
        try await browser.signIn("alice@example.com")
        #expect(try await browser.get("/issues").status == 200)
        let good = try #require(browser.cookies["herald_session"])

        // A changed character in the id, or a signature from another key, or none.
        let id = good.split(separator: ".")[0], signature = good.split(separator: ".")[1]
        let flipped = (id.first == "A" ? "B" : "A") + id.dropFirst()
        for forged in ["\(flipped).\(signature)", String(id), "\(id).\(String(signature.reversed()))", "x"] {
            browser.cookies["herald_session"] = forged
            #expect(try await browser.get("/issues").status == 302, "\(forged)")
        }

        // A session past its end, made by the store as it would have been hours ago.
        let old = ConsoleSecrets.token()
        try await server.server.store.startSession(
            idHash: ConsoleSecrets.hash(old), email: "alice@example.com", csrf: "c", method: "link", lifetime: 3_600,
            now: Date().addingTimeInterval(-7_200))
        browser.cookies["herald_session"] = ConsoleSecrets(key: try server.server.store.consoleKey()).signed(old)
        #expect(try await browser.get("/issues").status == 302)

        // Signing out ends the session on the server, not only in the browser.
        browser.cookies["herald_session"] = good
        let page = try await browser.get("/issues")
        let csrf = try #require(ConsoleBrowser.csrf(in: page))
        #expect(try await browser.post("/logout", [("csrf", csrf)]).status == 302)
        browser.cookies["herald_session"] = good
        #expect(try await browser.get("/issues").status == 302)
        try await server.stop()
    }

    @Test func aFormWithoutTheSessionsTokenChangesNothing() async throws {
        let server = try await RunningServer(rules: [:])
        #expect(try await server.postEvent(#"{"message": "checkout failed"}"#).status == 200)
        let browser = ConsoleBrowser(server: server)
        try await browser.signIn("alice@example.com")
        for form in [[("action", "resolve")], [("action", "resolve"), ("csrf", "")], [("action", "resolve"), ("csrf", "forged")]] {
            #expect(try await browser.post("/issues/1/actions", form).status == 403)
        }
        // Another person's valid token is not this session's.
        let other = ConsoleBrowser(server: server)
        try await other.signIn("bob@example.com")
        let othersToken = try #require(ConsoleBrowser.csrf(in: try await other.get("/issues/1")))
        #expect(try await browser.post("/issues/1/actions", [("action", "resolve"), ("csrf", othersToken)]).status == 403)

        let issue = try #require(try await server.server.store.issue("1"))
        #expect(issue.status == .unresolved)
        #expect(try await server.server.store.actions(issue: 1).isEmpty)
        try await server.stop()
    }

    @Test func aStakeholderReadsButCannotAct() async throws {
        let server = try await RunningServer(rules: [:])
        #expect(try await server.postEvent(#"{"message": "checkout failed"}"#).status == 200)
        let browser = ConsoleBrowser(server: server)
        try await browser.signIn("carol@example.com")
        let page = try await browser.get("/issues/1")
        #expect(page.status == 200)
        #expect(!page.text.contains("action=\"/issues/1/actions\""))
        #expect(!page.text.contains("value=\"resolve\""))
        // A forged POST with the stakeholder's own valid token.
        let csrf = try #require(ConsoleBrowser.csrf(in: page))
        let answer = try await browser.post("/issues/1/actions", [("action", "resolve"), ("csrf", csrf)])
        #expect(answer.headers["location"] == "/issues/1?done=forbidden")
        #expect(try await server.server.store.issue("1")?.status == .unresolved)
        #expect(try await server.server.store.actions(issue: 1).isEmpty)
        try await server.stop()
    }

    @Test func anActionFromThePageUpdatesTheChatMessages() async throws {
        let chat = try await RunningServer.chatDouble()
        let server = try await Self.sendingToSlack(chat)
        #expect(try await server.postEvent(#"{"message": "card declined", "level": "error"}"#).status == 200)
        try await eventually("the alert is posted") { chat.messageCount == 1 }

        let browser = ConsoleBrowser(server: server)
        try await browser.signIn("bob@example.com")
        let page = try await browser.get("/issues/1")
        #expect(page.text.contains("Everything to Slack"))
        #expect(page.text.contains("first_seen"))
        let csrf = try #require(ConsoleBrowser.csrf(in: page))
        let answer = try await browser.post("/issues/1/actions", [("action", "resolve"), ("csrf", csrf)])
        #expect(answer.headers["location"] == "/issues/1?done=changed")
        try await eventually("the message is updated and a note is posted") {
            chat.messages.first?.updates == 1 && chat.messageCount == 2
        }
        let after = try await browser.get("/issues/1?done=changed")
        #expect(after.text.contains("Resolved by Bob via web"))
        #expect(after.text.contains("open the message"))
        let records = try await server.server.store.actions(issue: 1)
        #expect(records.map(\.actor.surface) == ["web"])

        // The message link goes to Slack's permalink for the message.
        let delivery = try #require(try await server.server.store.deliveries(issue: 1).last { $0.purpose == .alert })
        let link = try await browser.get("/deliveries/\(delivery.id ?? 0)/message")
        #expect(link.status == 302)
        #expect(link.headers["location"]?.hasPrefix("https://acme.slack.example/archives/") == true)
        try await server.stop()
        try await chat.stop()
    }

    /// A delivery that failed for good is listed with its reason, and "Retry now" sends it once more.
    @Test func aFailedDeliveryIsRetriedFromTheDeliveriesPage() async throws {
        let chat = try await RunningServer.chatDouble()
        chat.script("#payments", .error("channel_not_found"))
        let server = try await Self.sendingToSlack(chat)
        #expect(try await server.postEvent(#"{"message": "card declined"}"#).status == 200)
        try await eventually("the delivery fails for good") {
            try await server.server.store.deliveries(issue: 1).first?.status == .failed
        }
        let id = try #require(try await server.server.store.deliveries(issue: 1).first?.id)

        let stakeholder = ConsoleBrowser(server: server)
        try await stakeholder.signIn("carol@example.com")
        let readOnly = try await stakeholder.get("/deliveries?status=failed")
        #expect(readOnly.text.contains("channel_not_found"))
        #expect(!readOnly.text.contains("Retry now"))
        let refused = try await stakeholder.post("/deliveries/\(id)/retry", [("csrf", try #require(ConsoleBrowser.csrf(in: readOnly)))])
        #expect(refused.status == 403)

        let browser = ConsoleBrowser(server: server)
        try await browser.signIn("bob@example.com")
        let page = try await browser.get("/deliveries?status=failed")
        #expect(page.text.contains("Retry now"))
        let answer = try await browser.post("/deliveries/\(id)/retry", [("csrf", try #require(ConsoleBrowser.csrf(in: page)))])
        #expect(answer.headers["location"] == "/deliveries?done=retried")
        try await eventually("the retried delivery is posted") { chat.messageCount == 1 }
        try await eventually("and recorded as delivered") {
            try await server.server.store.deliveries(issue: 1).first?.status == .delivered
        }
        // Delivered is not failed: a second retry does nothing.
        let again = try await browser.post("/deliveries/\(id)/retry", [("csrf", try #require(ConsoleBrowser.csrf(in: page)))])
        #expect(again.headers["location"] == "/deliveries?done=not-retryable")
        #expect(chat.messageCount == 1)
        try await server.stop()
        try await chat.stop()
    }

    @Test func bulkActionsActOnEachIssueOnce() async throws {
        let server = try await RunningServer(rules: [:])
        for name in ["a", "b", "c"] { #expect(try await server.postEvent(#"{"message": "problem \#(name)"}"#).status == 200) }
        let browser = ConsoleBrowser(server: server)
        try await browser.signIn("alice@example.com")
        let list = try await browser.get("/issues?project=payments")
        let csrf = try #require(ConsoleBrowser.csrf(in: list))
        let answer = try await browser.post("/issues/bulk", [
            ("csrf", csrf), ("back", "/issues?project=payments"), ("issue", "1"), ("issue", "3"), ("action", "ignore:forever"),
        ])
        #expect(answer.headers["location"] == "/issues?project=payments&done=changed")
        #expect(try await server.server.store.issue("1")?.status == .ignored)
        #expect(try await server.server.store.issue("2")?.status == .unresolved)
        #expect(try await server.server.store.issue("3")?.status == .ignored)
        #expect(try await server.server.store.actions(issue: 1).count == 1)
        let ignored = try await browser.get("/issues?status=ignored")
        #expect(ignored.text.contains("PAYMENTS-1") && ignored.text.contains("PAYMENTS-3") && !ignored.text.contains("PAYMENTS-2"))
        #expect(try await browser.get("/issues?status=nonsense").status == 400)
        try await server.stop()
    }

    @Test func theIssueListFiltersSortsAndPages() async throws {
        let server = try await RunningServer(rules: [:])
        let events = [
            #"{"message": "Card declined", "level": "error", "environment": "production"}"#,
            #"{"message": "Slow checkout 100% of the time", "level": "warning", "environment": "staging"}"#,
            #"{"message": "Card expired", "level": "error", "environment": "staging"}"#,
        ]
        for event in events { #expect(try await server.postEvent(event).status == 200) }
        for _ in 0..<3 { #expect(try await server.postEvent(events[2]).status == 200) }
        _ = try await server.server.actions.perform(
            .assign(email: "bob@example.com"), on: 1, actor: .init(email: nil, name: "an admin", surface: "test"), user: nil)
        let browser = ConsoleBrowser(server: server)
        try await browser.signIn("bob@example.com")
        func shown(_ query: String) async throws -> [String] {
            let page = try await browser.get("/issues?" + query)
            #expect(page.status == 200, "\(query)")
            return page.text.matches(of: /PAYMENTS-[0-9]+/).map { String($0.output) }.reduce(into: []) { if !$0.contains($1) { $0.append($1) } }
        }
        #expect(try await shown("level=error") == ["PAYMENTS-3", "PAYMENTS-1"])
        #expect(try await shown("environment=staging") == ["PAYMENTS-3", "PAYMENTS-2"])
        #expect(try await shown("q=card") == ["PAYMENTS-3", "PAYMENTS-1"])
        let both = try await shown("q=card+declined")
        #expect(both == ["PAYMENTS-1"], "\(both)")
        // LIKE's wildcards are literal: "100%" matches the one title that has it, "_" matches none.
        #expect(try await shown("q=100%25") == ["PAYMENTS-2"])
        #expect(try await shown("q=_") == [])
        #expect(try await shown("assignee=me") == ["PAYMENTS-1"])
        #expect(try await shown("sort=events") == ["PAYMENTS-3", "PAYMENTS-2", "PAYMENTS-1"])
        #expect(try await shown("sort=first_seen") == ["PAYMENTS-3", "PAYMENTS-2", "PAYMENTS-1"])
        for bad in ["level=loud", "sort=random", "cursor=nonsense", "project=nope"] {
            #expect(try await browser.get("/issues?" + bad).status == 400, "\(bad)")
        }
        try await server.stop()
    }

    @Test func theRulesPageShowsFiringsReloadErrorsAndExplains() async throws {
        let rule = """
            project: payments
            rules:
              - name: Errors
                when: [first_seen]
                if:
                  - level: {gte: error}
                then:
                  - webhook: {name: pager}
            """
        let server = try await RunningServer(rules: ["payments.yaml": rule], rulesPollInterval: .seconds(3_600))
        #expect(try await server.postEvent(#"{"message": "Card declined", "level": "error"}"#).status == 200)
        let browser = ConsoleBrowser(server: server)
        try await browser.signIn("carol@example.com")
        let page = try await browser.get("/rules")
        #expect(page.text.contains("<td>Errors</td><td class=\"mono\">\(server.directory.path)/rules/payments.yaml:3:5</td><td>1</td>"))

        server.directory.write("rules/payments.yaml", rule.replacingOccurrences(of: "gte: error", with: "gte: eror"))
        #expect(try await server.admin("/-/reload", method: "POST").status == 422)
        let failed = try await browser.get("/rules")
        #expect(failed.text.contains("The last reload failed"))
        #expect(failed.text.contains("payments.yaml:6:22: error: unknown level"))

        // Explaining is reading: a stakeholder may, with the session's token.
        let csrf = try #require(ConsoleBrowser.csrf(in: failed))
        let latest = try await browser.post("/rules/explain", [("csrf", csrf), ("issue", "PAYMENTS-1"), ("event", "")])
        #expect(latest.text.contains("Verdicts for the latest event of PAYMENTS-1"))
        #expect(latest.text.contains("first_seen (issue is ongoing)"))
        let pasted = try await browser.post("/rules/explain", [
            ("csrf", csrf), ("issue", ""), ("event", #"{"project": "payments", "level": "fatal", "message": "x"}"#),
        ])
        #expect(pasted.text.contains("matches"))
        #expect(pasted.text.contains("webhook pager"))
        let broken = try await browser.post("/rules/explain", [("csrf", csrf), ("issue", ""), ("event", "{not json")])
        #expect(broken.status == 200)
        #expect(broken.text.contains("The event cannot be explained"))
        #expect(try await browser.post("/rules/explain", [("issue", "PAYMENTS-1")]).status == 403)
        try await server.stop()
    }

    @Test func aMattermostDeliveryLinksToItsPost() async throws {
        let chat = try await RunningServer.chatDouble()
        let directory = TemporaryDirectory()
        let server = try await RunningServer(
            rules: ["payments.yaml": """
                project: payments
                rules:
                  - name: To Mattermost
                    when: [first_seen]
                    then:
                      - mattermost: {connector: ops, channels: [incidents]}
                """],
            configYAML: RunningServer.configYAML(directory: directory.path, chat: chat), directory: directory)
        #expect(try await server.postEvent(#"{"message": "card declined"}"#).status == 200)
        try await eventually("the post is made") {
            try await server.server.store.deliveries(issue: 1).first?.status == .delivered
        }
        let delivery = try #require(try await server.server.store.deliveries(issue: 1).first)
        let browser = ConsoleBrowser(server: server)
        try await browser.signIn("carol@example.com")
        let link = try await browser.get("/deliveries/\(delivery.id ?? 0)/message")
        #expect(link.status == 302)
        #expect(link.headers["location"] == chat.mattermostURL + "/_redirect/pl/" + (delivery.deliveredRef ?? "?"))
        #expect(try await browser.get("/deliveries/999999/message").status == 404)
        try await server.stop()
        try await chat.stop()
    }

    @Test func theStylesheetIsCachedByItsHash() async throws {
        let server = try await RunningServer(rules: [:])
        let sheet = try await server.send(HTTPTestRequest("GET", Stylesheet.path))
        #expect(sheet.status == 200)
        #expect(sheet.headers["cache-control"] == "public, max-age=31536000, immutable")
        #expect(try await server.send(HTTPTestRequest("GET", "/static/console-000000.css")).status == 404)
        try await server.stop()
    }
}
