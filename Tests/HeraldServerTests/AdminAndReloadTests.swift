import Foundation
import HeraldStore
import HeraldTestSupport
import Testing

@Suite struct AdminTests {
    @Test(arguments: [nil, "Bearer wrong", "Basic YWRtaW46YWRtaW4="])
    func theAdminAPIWantsTheToken(_ authorization: String?) async throws {
        let server = try await RunningServer(rules: [:])
        for (method, path) in [("GET", "/api/v1/issues"), ("GET", "/api/v1/issues/1"), ("POST", "/-/reload"), ("GET", "/-/rules")] {
            let headers = authorization.map { [("Authorization", $0)] } ?? []
            let response = try await server.send(HTTPTestRequest(method, path, headers: headers))
            #expect(response.status == 401, "\(method) \(path)")
        }
        try await server.stop()
    }

    @Test func listsIssuesByProjectAndStatusOnePageAtATime() async throws {
        let server = try await RunningServer(rules: [:])
        for number in 1...5 {
            #expect(try await server.postEvent(#"{"message": "payments problem \#(String(UnicodeScalar(96 + number)!))"}"#).status == 200)
        }
        #expect(try await server.postEvent(#"{"message": "web problem"}"#, key: "wk-2").status == 200)
        _ = try await server.server.store.change(issue: 1, .resolve(inNextRelease: false))

        var seen: [String] = []
        var cursor: String?
        repeat {
            let path = "/api/v1/issues?project=payments&limit=2" + (cursor.map { "&cursor=\($0)" } ?? "")
            let page = try await server.admin(path).json
            let issues = try #require(page["issues"] as? [[String: Any]])
            #expect(issues.count <= 2)
            seen += issues.map { $0["short_id"] as! String }
            cursor = page["next_cursor"] as? String
        } while cursor != nil
        #expect(seen == ["PAYMENTS-5", "PAYMENTS-4", "PAYMENTS-3", "PAYMENTS-2", "PAYMENTS-1"])

        let resolved = try await server.admin("/api/v1/issues?status=resolved").json["issues"] as? [[String: Any]]
        #expect(resolved?.map { $0["short_id"] as? String } == ["PAYMENTS-1"])
        let web = try await server.admin("/api/v1/issues?project=2").json["issues"] as? [[String: Any]]
        #expect(web?.map { $0["short_id"] as? String } == ["WEB-1"])

        #expect(try await server.admin("/api/v1/issues/payments-3").json["title"] as? String == "payments problem c")
        #expect(try await server.admin("/api/v1/issues/6").json["short_id"] as? String == "WEB-1")
        try await server.stop()
    }

    @Test(arguments: [
        ("/api/v1/issues?status=open", 400, "status"), ("/api/v1/issues?project=nope", 400, "project"),
        ("/api/v1/issues?cursor=zzz", 400, "cursor"), ("/api/v1/issues?limit=0", 400, "limit"),
        ("/api/v1/issues/PAYMENTS-77", 404, nil), ("/api/v1/issues/12345", 404, nil),
    ] as [(String, Int, String?)])
    func badQueriesAreNamed(path: String, status: Int, field: String?) async throws {
        let server = try await RunningServer(rules: [:])
        let response = try await server.admin(path)
        #expect(response.status == status)
        #expect(response.json["field"] as? String == field)
        #expect(response.json["error"] is String)
        try await server.stop()
    }

    @Test func healthAndMetrics() async throws {
        let server = try await RunningServer(rules: ["payments.yaml": paymentsRules])
        let health = try await server.send(HTTPTestRequest("GET", "/healthz"))
        #expect(health.status == 200)
        #expect(health.json["status"] as? String == "ok")
        let rules = try #require(health.json["rules"] as? [String: Any])
        #expect(rules["version"] as? String == server.server.rules.engine.ruleSet.version)
        #expect(rules["count"] as? Int == 1)

        #expect(try await server.postEvent(#"{"message": "one"}"#).status == 200)
        #expect(try await server.postEvent(#"{"message": "one"}"#).status == 200)
        #expect(try await server.postEvent(#"{"message": "one"}"#, key: "bad").status == 401)
        let metrics = try await server.send(HTTPTestRequest("GET", "/metrics"))
        #expect(metrics.status == 200)
        #expect(metrics.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        for line in [
            "herald_events_accepted_total 2", "herald_issues_created_total 1",
            #"herald_events_rejected_total{reason="unauthorized"} 1"#, "herald_rule_evaluations_total 2",
            "herald_rule_matches_total 1", "herald_rule_firings_total 1", "herald_outbox_pending 3.0",
            "herald_rules_loaded 1.0", "herald_rule_evaluation_seconds_count 2",
        ] {
            #expect(metrics.text.contains(line + "\n"), "\(line)")
        }
        try await server.stop()
    }
}

@Suite struct ReloadTests {
    static let brokenRules = """
        project: payments
        rules:
          - name: Broken
            when: [first_seen]
            if:
              - level: {gte: loud}
            then:
              - slack: {workspace: acme, channels: ["#payments"]}
        """

    @Test func aBrokenRuleFileKeepsTheRunningSetAndIsReported() async throws {
        let server = try await RunningServer(rules: ["payments.yaml": paymentsRules], rulesPollInterval: .seconds(3_600))
        let running = server.server.rules.engine.ruleSet.version
        server.directory.write("rules/payments.yaml", Self.brokenRules)

        let reload = try await server.admin("/-/reload", method: "POST")
        #expect(reload.status == 422)
        #expect(reload.json["status"] as? String == "failed")
        #expect(reload.json["running_version"] as? String == running)
        let errors = try #require(reload.json["errors"] as? [String])
        #expect(errors.count == 1)
        #expect(errors.first?.hasSuffix("rules/payments.yaml:6:22: error: unknown level 'loud'; allowed: debug, info, warning, error, fatal") == true, "\(errors)")

        let status = try await server.admin("/-/rules").json
        #expect(status["version"] as? String == running)
        let lastError = try #require(status["last_reload_error"] as? [String: Any])
        #expect(lastError["errors"] as? [String] == errors)

        // Still serving, on the old rules: a new issue fires the old rule.
        #expect(try await server.postEvent(#"{"message": "after the broken reload"}"#).status == 200)
        let issue = try await server.admin("/api/v1/issues/PAYMENTS-1").json
        #expect((issue["deliveries"] as? [Any])?.count == 3)
        #expect((issue["firings"] as? [[String: Any]])?.first?["rule_set_version"] as? String == running)

        server.directory.write("rules/payments.yaml", paymentsRules.replacingOccurrences(of: "#oncall", with: "#sre"))
        let fixed = try await server.admin("/-/reload", method: "POST")
        #expect(fixed.status == 200)
        #expect(fixed.json["status"] as? String == "reloaded")
        #expect(try await server.admin("/-/rules").json["last_reload_error"] == nil)
        #expect(try await server.postEvent(#"{"message": "after the fix"}"#).status == 200)
        let channels = (try await server.admin("/api/v1/issues/PAYMENTS-2").json["deliveries"] as? [[String: Any]])?
            .compactMap { $0["channel"] as? String }
        #expect(Set(channels ?? []) == ["#payments", "#sre", "#alerts"])
        try await server.stop()
    }

    @Test func aChangedFileIsPickedUpWithoutBeingAsked() async throws {
        let server = try await RunningServer(rules: ["payments.yaml": paymentsRules], rulesPollInterval: .milliseconds(50))
        let before = server.server.rules.engine.ruleSet.version
        server.directory.write("rules/web.yaml", """
            project: web
            rules:
              - name: Everything on web
                when: [every_event]
                then:
                  - webhook: {name: pager}
            """)
        var version = before
        for _ in 0..<800 where version == before {
            try await Task.sleep(for: .milliseconds(25))
            version = server.server.rules.engine.ruleSet.version
        }
        #expect(version != before)
        #expect(server.server.rules.engine.ruleSet.rules.count == 2)
        #expect(try await server.postEvent(#"{"message": "web"}"#, key: "wk-2").status == 200)
        let deliveries = try await server.admin("/api/v1/issues/WEB-1").json["deliveries"] as? [[String: Any]]
        #expect(deliveries?.map { $0["kind"] as? String } == ["webhook"])
        try await server.stop()
    }
}

/// A rule with a pattern whose cost grows fast with its subject: each match over the limit gives up instead of
/// holding the ingest writer, the rule does not fire on it (neither `matches` nor `not_matches` holds), and
/// the hits show in /-/rules. (A pattern that backtracks exponentially is refused when the rules load.)
@Suite struct RegexLimitTests {
    static let rules = """
        project: payments
        rules:
          - name: Not about cards
            when: [every_event]
            if:
              - attribute: {name: message, not_matches: "^a*a*a*a*$"}
            then:
              - webhook: {name: pager}
        """

    @Test func aCostlyPatternGivesUpAndTheRuleDoesNotFire() async throws {
        let directory = TemporaryDirectory()
        let config = RunningServer.configYAML(directory: directory.path, extra: "regex: {match_limit: 1000}")
        let server = try await RunningServer(rules: ["payments.yaml": Self.rules], configYAML: config, directory: directory)
        // About n⁴/24 steps for n characters: 2,600 at 30 is past the limit of 1,000.
        let pathological = String(repeating: "a", count: 30) + "!"
        let response = try await server.postEvent(#"{"message": "\#(pathological)"}"#)
        #expect(response.status == 200, "\(response.text)")
        #expect(try await server.postEvent(#"{"message": "an ordinary failure"}"#).status == 200)
        let rules = try await server.admin("/-/rules").json["rules"] as? [[String: Any]]
        #expect(rules?.first?["regex_limit_hits"] as? Int == 1)
        let deliveries = try await server.admin("/api/v1/deliveries").json["deliveries"] as? [[String: Any]]
        // Only the ordinary event's: the pathological one matched neither way.
        #expect(deliveries?.count == 1)
        try await server.stop()
    }
}

