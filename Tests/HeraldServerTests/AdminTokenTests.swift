import Foundation
import HeraldTestSupport
import Testing

/// Named admin tokens with scopes, made and revoked with `herald tokens` while the server runs.
@Suite struct AdminTokenTests {
    @Test func scopesAreEnforcedAndRevocationNeedsNoRestart() async throws {
        let server = try await RunningServer(rules: ["payments.yaml": OperatorTests.rules])
        #expect(try await server.postEvent(#"{"message": "card declined"}"#).status == 200)
        let config = server.directory.path + "/herald.yaml"
        func herald(_ arguments: [String]) async throws -> (Int32, String) {
            await (try ChildProcess(ChildProcess.heraldExecutable, arguments)).result(within: .seconds(60))
        }
        var tokens: [String: String] = [:]
        for scope in ["read", "act", "admin"] {
            let (status, output) = try await herald(["tokens", "create", "--config", config, "bot-\(scope)", "--scope", scope])
            #expect(status == 0, "\(output)")
            tokens[scope] = output.split(separator: "\n").first { $0.hasPrefix("hrld_") }.map(String.init)
        }
        func send(_ method: String, _ path: String, token: String?, json: String? = nil) async throws -> Int {
            let headers = token.map { [("Authorization", "Bearer \($0)")] } ?? []
            let request = json.map { HTTPTestRequest(method, path, headers: headers, json: $0) } ?? HTTPTestRequest(method, path, headers: headers)
            return try await server.send(request).status
        }
        let act = #"{"action": "ack"}"#
        // read: reads only.
        #expect(try await send("GET", "/api/v1/issues", token: tokens["read"]) == 200)
        #expect(try await send("GET", "/-/rules", token: tokens["read"]) == 200)
        #expect(try await send("POST", "/api/v1/issues/1/actions", token: tokens["read"], json: act) == 403)
        #expect(try await send("POST", "/-/reload", token: tokens["read"]) == 403)
        #expect(try await server.server.store.actions(issue: 1).isEmpty)
        // act: reads and acts, does not reload.
        #expect(try await send("POST", "/api/v1/issues/1/actions", token: tokens["act"], json: act) == 200)
        #expect(try await send("POST", "/-/reload", token: tokens["act"]) == 403)
        // admin: everything; the config's admin_token too.
        #expect(try await send("POST", "/-/reload", token: tokens["admin"]) == 200)
        #expect(try await send("POST", "/-/reload", token: RunningServer.adminToken) == 200)

        let (listed, list) = try await herald(["tokens", "list", "--config", config])
        #expect(listed == 0 && list.contains("bot-act") && list.contains("act") && !list.contains("hrld_"), "\(list)")

        // Revoked while the server runs: the next request is refused.
        let (revoked, _) = try await herald(["tokens", "revoke", "--config", config, "bot-read"])
        #expect(revoked == 0)
        #expect(try await send("GET", "/api/v1/issues", token: tokens["read"]) == 401)
        #expect(try await send("GET", "/api/v1/issues", token: "hrld_made-up") == 401)
        let (again, refusal) = try await herald(["tokens", "create", "--config", config, "bot-act"])
        #expect(again == 1 && refusal.contains("exists"), "\(refusal)")
        let (badScope, usage) = try await herald(["tokens", "create", "--config", config, "x", "--scope", "root"])
        #expect(badScope != 0 && usage.contains("unknown scope 'root'") && usage.contains("Usage: herald tokens create"), "\(usage)")
        try await server.stop()
    }
}
