import Foundation
import HeraldTestSupport
import Testing

/// Sign-in through an OpenID Connect provider double, end to end over HTTP: discovery, the redirect with
/// PKCE, state and nonce, the code exchange, and the ID token check; every defect refused with no session.
@Suite struct OpenIDSignInTests {
    /// A server whose console signs in with `provider`, and the provider serving.
    static func start(_ provider: OpenIDProviderDouble) async throws -> (RunningServer, LoopbackServer) {
        let served = await provider.start()
        let directory = TemporaryDirectory()
        let config = RunningServer.configYAML(directory: directory.path, extra: """
            console:
              oidc: {issuer: "\(provider.issuer)", client_id: \(provider.clientID), client_secret: \(provider.clientSecret), name: Test ID}
            """)
        return (try await RunningServer(rules: [:], configYAML: config, directory: directory), served)
    }

    /// Runs the browser's part of the flow and answers Herald's answer to the callback; `tamper` may change
    /// the callback's query.
    static func signIn(
        _ browser: ConsoleBrowser, provider: OpenIDProviderDouble, next: String = "/issues",
        tamper: (String) -> String = { $0 }
    ) async throws -> HTTPTestResponse {
        let start = try await browser.get("/login/oidc?next=" + next)
        #expect(start.status == 302)
        let authorize = try #require(start.headers["location"].flatMap(URLComponents.init(string:)))
        #expect(authorize.queryItems?.contains { $0.name == "code_challenge_method" && $0.value == "S256" } == true)
        let port = try #require(authorize.port)
        let approved = try await HTTPTestRequest("GET", authorize.path + "?" + (authorize.percentEncodedQuery ?? "")).send(port: port)
        #expect(approved.status == 302, "\(approved.text)")
        let callback = try #require(approved.headers["location"].flatMap(URLComponents.init(string:)))
        #expect(callback.path == "/login/oidc/callback")
        return try await browser.get(callback.path + "?" + tamper(callback.percentEncodedQuery ?? ""))
    }

    @Test func signsInAndReturnsToThePageAskedFor() async throws {
        let provider = try OpenIDProviderDouble()
        let (server, served) = try await Self.start(provider)
        provider.signIn(as: "bob@example.com")
        let browser = ConsoleBrowser(server: server)
        #expect(try await browser.get("/login").text.contains("Sign in with Test ID"))
        let answer = try await Self.signIn(browser, provider: provider, next: "/rules")
        #expect(answer.status == 303)
        #expect(answer.headers["location"] == "/rules")
        let rules = try await browser.get("/rules")
        #expect(rules.status == 200)
        #expect(rules.text.contains("Bob"))
        try await server.stop()
        try await served.stop()
    }

    @Test(arguments: OpenIDProviderDouble.Defect.allCases)
    func aSpoiledIDTokenSignsNoOneIn(defect: OpenIDProviderDouble.Defect) async throws {
        let provider = try OpenIDProviderDouble()
        let (server, served) = try await Self.start(provider)
        provider.spoil(next: defect)
        let browser = ConsoleBrowser(server: server)
        let answer = try await Self.signIn(browser, provider: provider)
        #expect(answer.status == 403)
        #expect(answer.text.contains("was refused"))
        #expect(browser.cookies["herald_session"] == nil)
        #expect(try await browser.get("/issues").status == 302)
        try await server.stop()
        try await served.stop()
    }

    @Test func aCallbackThatDoesNotMatchItsStartIsRefused() async throws {
        let provider = try OpenIDProviderDouble()
        let (server, served) = try await Self.start(provider)
        // Another state than the one this browser started with.
        let browser = ConsoleBrowser(server: server)
        let forged = try await Self.signIn(browser, provider: provider) { query in
            query.replacingOccurrences(of: "state=", with: "state=x")
        }
        #expect(forged.status == 403)
        #expect(browser.cookies["herald_session"] == nil)
        // A callback in a browser that never started one (login CSRF).
        let stranger = ConsoleBrowser(server: server)
        let answer = try await stranger.get("/login/oidc/callback?code=abc&state=def")
        #expect(answer.status == 403)
        #expect(stranger.cookies["herald_session"] == nil)
        // The provider saying no.
        #expect(try await stranger.get("/login/oidc/callback?error=access_denied").status == 403)
        #expect(provider.tokenRequests == 0)
        try await server.stop()
        try await served.stop()
    }

    @Test func anEmailHeraldDoesNotKnowIsRefused() async throws {
        let provider = try OpenIDProviderDouble()
        let (server, served) = try await Self.start(provider)
        provider.signIn(as: "mallory@example.com")
        let browser = ConsoleBrowser(server: server)
        let answer = try await Self.signIn(browser, provider: provider)
        #expect(answer.status == 403)
        #expect(answer.text.contains("mallory@example.com is not a Herald user"))
        #expect(browser.cookies["herald_session"] == nil)
        try await server.stop()
        try await served.stop()
    }
}
