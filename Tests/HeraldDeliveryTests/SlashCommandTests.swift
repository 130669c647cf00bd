import HeraldCore
import Crypto
import Foundation
import HeraldTestSupport
import Testing

/// `/herald` from Slack (signed here with swift-crypto) and from Mattermost (command token).
@Suite struct SlashCommandTests {
    static let rules = """
        project: payments
        rules:
          - name: Payment failures
            when: [first_seen]
            then:
              - slack: {workspace: acme, channels: ["#payments"]}
              - slack: {workspace: globex, channels: ["#alerts"]}
        """

    /// The test config, with unlinked users allowed to raise payments alerts in #incidents, and a Mattermost
    /// command token.
    func start() async throws -> Harness {
        let chat = try await RunningServer.chatDouble()
        let directory = TemporaryDirectory()
        let config = RunningServer.configYAML(directory: directory.path, extra: fastDelivery, chat: chat)
            .replacingOccurrences(
                of: "{id: 1, slug: payments, keys: [pk-1, pk-1b]}",
                with: "{id: 1, slug: payments, keys: [pk-1, pk-1b], chat_alerts: {allowed_channels: [\"#incidents\"], allow_unlinked_users: true}}")
            .replacingOccurrences(of: "token: mm-token, team: ops", with: "token: mm-token, team: ops, command_token: mm-command")
        let server = try await RunningServer(rules: ["payments.yaml": Self.rules], configYAML: config, directory: directory)
        return Harness(chat: chat, server: server)
    }

    func signed(_ path: String, _ body: String) -> HTTPTestRequest {
        let timestamp = String(Int(Date().timeIntervalSince1970))
        let code = HMAC<SHA256>.authenticationCode(
            for: Data("v0:\(timestamp):\(body)".utf8), using: SymmetricKey(data: Data("signing".utf8)))
        return HTTPTestRequest(
            "POST", path,
            headers: [("Content-Type", "application/x-www-form-urlencoded"), ("X-Slack-Request-Timestamp", timestamp),
                      ("X-Slack-Signature", "v0=" + code.map { String(format: "%02x", $0) }.joined())],
            body: Array(body.utf8))
    }

    func slack(_ harness: Harness, user: String, channel: String = "random", text: String) async throws -> HTTPTestResponse {
        let text = text.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        return try await harness.server.send(signed(
            "/slack/commands",
            "token=x&team_id=T0ACME&team_domain=acme&channel_id=C0\(channel.uppercased())&channel_name=\(channel)"
                + "&user_id=\(user)&user_name=\(user.lowercased())&command=%2Fherald&text=\(text)"
                + "&response_url=x&trigger_id=123.456.abc&api_app_id=A0HERALD"))
    }

    /// `/herald login` answers a known person, only to them, with a one-time console link that works once;
    /// someone Herald does not know gets none.
    @Test func loginAnswersWithAOneTimeConsoleLink() async throws {
        let harness = try await start()
        let answer = try await slack(harness, user: "U0BOB", text: "login")
        #expect(answer.json["response_type"] as? String == "ephemeral")
        let text = try #require(answer.json["text"] as? String)
        let link = try #require(text.split(separator: "\n").last.map(String.init))
        #expect(link.hasPrefix("https://herald.example.com/login/link/"))
        let token = String(link.split(separator: "/").last ?? "")
        let form = "token=\(token)&next=%2Fissues"
        let headers = [("Content-Type", "application/x-www-form-urlencoded")]
        let used = try await harness.server.send(HTTPTestRequest("POST", "/login/link", headers: headers, body: Array(form.utf8)))
        #expect(used.status == 303)
        #expect(used.headers["set-cookie"]?.hasPrefix("herald_session=") == true)
        let replayed = try await harness.server.send(HTTPTestRequest("POST", "/login/link", headers: headers, body: Array(form.utf8)))
        #expect(replayed.status == 403)

        let stranger = try await slack(harness, user: "U0EVE", text: "login")
        #expect((stranger.json["text"] as? String)?.contains("Herald does not know you") == true)
        #expect(!(stranger.text.contains("/login/link/")))
        try await harness.stop()
    }

    /// Slack's signature has no nonce: the same signed command sent again within its window is refused.
    @Test func aReplayedCommandRaisesNothingMore() async throws {
        let harness = try await start()
        let body = "token=x&team_id=T0ACME&channel_id=C0RANDOM&channel_name=random&user_id=U0BOB&user_name=bob"
            + "&command=%2Fherald&text=alert%20payments%20Replayed&trigger_id=1.2.3"
        let request = signed("/slack/commands", body)
        let first = try await harness.server.send(request)
        #expect((first.json["text"] as? String)?.hasPrefix("Raised PAYMENTS-1") == true, "\(first.text)")
        for _ in 0..<3 {
            let again = try await harness.server.send(request)
            #expect(again.status == 200)
            #expect(again.json["text"] as? String == "Herald has already taken this command.")
        }
        let issue = try await harness.server.admin("/api/v1/issues/PAYMENTS-1")
        #expect(issue.json["times_seen"] as? Int == 1)
        try await harness.stop()
    }

    @Test func anAlertFromSlackReachesTheChannelsItsRulesName() async throws {
        let harness = try await start()
        let raised = try await slack(harness, user: "U0BOB", text: "alert payments Checkout is down")
        #expect(raised.status == 200)
        #expect(raised.json["response_type"] as? String == "ephemeral")
        #expect(raised.json["text"] as? String
            == "Raised PAYMENTS-1: Checkout is down. The rules of payments send it on (2 messages).")
        _ = try await harness.settled()
        let places = Set(harness.chat.messages.map { "\($0.workspace) \($0.channelID)" })
        #expect(places == ["acme CACME1", "globex CGLOBEX1"])
        #expect(harness.chat.messages.allSatisfy { message in
            message.blockTexts.contains { $0.contains("|Checkout is down>*") }
        })
        let issue = try await harness.server.admin("/api/v1/issues/PAYMENTS-1")
        let event = (issue.json["events"] as? [[String: Any]])?.first?["payload"] as? [String: Any]
        #expect((event?["tags"] as? [String: Any])?["raised_by"] as? String == "Bob")

        let status = try await slack(harness, user: "U0CAROL", text: "status PAYMENTS-1")
        #expect((status.json["text"] as? String)?.contains("*PAYMENTS-1* Checkout is down — unresolved") == true)
        // People Herald does not know see issues only where the project takes their alerts.
        let hidden = try await slack(harness, user: "U0EVE", channel: "random", text: "status PAYMENTS-1")
        #expect(hidden.json["text"] as? String == "There is no issue `PAYMENTS-1` that you may see here.")
        let open = try await slack(harness, user: "U0EVE", channel: "incidents", text: "status PAYMENTS-1")
        #expect((open.json["text"] as? String)?.contains("*PAYMENTS-1* Checkout is down") == true)
        let help = try await slack(harness, user: "U0EVE", text: "help")
        #expect((help.json["text"] as? String)?.hasPrefix("`/herald alert <project> <title>`") == true)
        let odd = try await slack(harness, user: "U0BOB", text: "explode now")
        #expect((odd.json["text"] as? String)?.hasPrefix("Herald does not know `explode`.") == true)
        try await harness.stop()
    }

    @Test func whoMayRaiseAlertsWhere() async throws {
        let harness = try await start()
        let cases: [(user: String, channel: String, text: String, answer: String)] = [
            ("U0EVE", "random", "alert payments Outage",
             "No project allows alerts from #random by people Herald does not know: payments takes them only in #incidents."),
            ("U0CAROL", "random", "alert payments Outage",
             "No project allows alerts from #random by people Herald does not know: payments takes them only in #incidents."),
            ("U0EVE", "random", "alert web Outage",
             "Project web takes alerts from chat only from Herald users who may change issues. Ask a Herald admin to add you to `users` in herald.yaml."),
            ("U0ALICE", "random", "alert shop Outage", "There is no project `shop`. Projects: payments, web."),
            ("U0ALICE", "random", "alert payments", "`alert` takes a project and a title"),
        ]
        for item in cases {
            let response = try await slack(harness, user: item.user, channel: item.channel, text: item.text)
            #expect(response.status == 200)
            #expect((response.json["text"] as? String)?.hasPrefix(item.answer) == true, "\(item): \(response.text)")
        }
        let none = try await harness.server.admin("/api/v1/issues").json["issues"] as? [Any]
        #expect(none?.isEmpty == true)

        // An unlinked person in the channel the project allows; a linked one anywhere, for any project.
        let allowed = try await slack(harness, user: "U0EVE", channel: "incidents", text: "alert payments Outage")
        #expect((allowed.json["text"] as? String)?.hasPrefix("Raised PAYMENTS-1: Outage.") == true)
        let linked = try await slack(harness, user: "U0ALICE", channel: "random", text: "alert web Outage")
        #expect((linked.json["text"] as? String)?.hasPrefix("Raised WEB-1: Outage. No rule of web sends it anywhere yet.") == true)

        // Unsigned, or from a team Herald does not know: refused before anything is read.
        var unsigned = signed("/slack/commands", "team_id=T0ACME&user_id=U0ALICE&text=alert+payments+X")
        unsigned.headers.removeAll { $0.0 == "X-Slack-Signature" }
        #expect(try await harness.server.send(unsigned).status == 401)
        #expect(try await harness.server.send(signed("/slack/commands", "team_id=T0OTHER&user_id=U0ALICE&text=help")).status == 403)
        try await harness.stop()
    }

    @Test func slackOpensAFormAndItsSubmissionIsChecked() async throws {
        let harness = try await start()
        let opened = try await slack(harness, user: "U0BOB", channel: "incidents", text: "")
        #expect(opened.status == 200)
        let view = try #require(harness.chat.requests(path: "views.open").first?.json)
        #expect(view["trigger_id"] as? String == "123.456.abc")
        let form = try #require(view["view"] as? [String: Any])
        #expect(form["callback_id"] as? String == "herald_alert")
        let blocks = form["blocks"] as? [[String: Any]] ?? []
        #expect(blocks.compactMap { $0["block_id"] as? String } == ["project", "title", "description", "level"])

        func submit(project: String?, title: String?, user: String = "U0BOB") async throws -> HTTPTestResponse {
            var values: [String: Any] = [
                "level": ["value": ["type": "static_select", "selected_option": ["value": "fatal"]]],
                "description": ["value": ["type": "plain_text_input", "value": "Nobody can pay"]],
            ]
            values["project"] = ["value": ["type": "static_select", "selected_option": project.map { ["value": $0] } as Any]]
            values["title"] = ["value": ["type": "plain_text_input", "value": title as Any]]
            let payload: [String: Any] = [
                "type": "view_submission", "user": ["id": user, "username": "bob", "team_id": "T0ACME"],
                "team": ["id": "T0ACME"],
                "view": ["id": "V0FORM", "callback_id": "herald_alert", "private_metadata": form["private_metadata"] as Any,
                         "state": ["values": values]],
            ]
            let json = String(decoding: try JSONSerialization.data(withJSONObject: payload), as: UTF8.self)
            return try await harness.server.send(signed(
                "/slack/interactions", "payload=" + json.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!))
        }
        let missing = try await submit(project: nil, title: "  ")
        #expect(missing.json["response_action"] as? String == "errors")
        #expect(missing.json["errors"] as? [String: String] == ["project": "Choose a project.", "title": "Give the alert a title."])
        let refused = try await submit(project: "web", title: "Outage", user: "U0EVE")
        #expect((refused.json["errors"] as? [String: String])?["project"]?.hasPrefix("Project web takes alerts") == true)

        let accepted = try await submit(project: "payments", title: "Checkout is down")
        #expect(accepted.status == 200)
        #expect(accepted.text.isEmpty)
        let issue = try await harness.server.admin("/api/v1/issues/PAYMENTS-1")
        #expect(issue.json["level"] as? String == "fatal")
        #expect(issue.json["title"] as? String == "Checkout is down")
        try await harness.stop()
    }

    @Test func mattermostCommandsNeedTheirToken() async throws {
        let harness = try await start()
        func command(_ token: String?, user: String, text: String) async throws -> HTTPTestResponse {
            var headers = [("Content-Type", "application/x-www-form-urlencoded")]
            if let token { headers.append(("Authorization", "Token \(token)")) }
            let body = "channel_id=c1&channel_name=town-square&command=%2Fherald&team_id=t&team_domain=ops&user_id=\(user)"
                + "&user_name=\(user)&text=\(text.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)"
            return try await harness.server.send(HTTPTestRequest(
                "POST", "/mattermost/commands", headers: headers, body: Array(body.utf8)))
        }
        #expect(try await command(nil, user: "mmbob", text: "help").status == 401)
        #expect(try await command("wrong", user: "mmbob", text: "help").status == 401)
        let raised = try await command("mm-command", user: "mmbob", text: "alert payments Checkout is down")
        #expect(raised.status == 200)
        #expect((raised.json["text"] as? String)?.hasPrefix("Raised PAYMENTS-1: Checkout is down.") == true)
        let refused = try await command("mm-command", user: "mmeve", text: "alert payments Outage")
        #expect((refused.json["text"] as? String)?.hasPrefix("No project allows alerts from #town-square") == true)
        let login = try await command("mm-command", user: "mmbob", text: "login")
        #expect(login.json["response_type"] as? String == "ephemeral")
        #expect((login.json["text"] as? String)?.contains("https://herald.example.com/login/link/") == true)
        _ = try await harness.settled()
        #expect(harness.chat.messages.count == 2)
        try await harness.stop()
    }
}
