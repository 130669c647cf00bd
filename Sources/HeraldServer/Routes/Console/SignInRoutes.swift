import Foundation
import HeraldChat
import HeraldConfig
import HeraldConsole
import HeraldCore
import HeraldStore
import Hummingbird
import Logging

/// Signing in to the console: `/login` (the page), one-time links (`/login/link/<token>`, spent by the POST
/// its page makes), OpenID Connect (`/login/oidc` and its callback), and `POST /logout`.
struct SignInRoutes {
    let pages: ConsolePages
    let sessions: ConsoleSessions
    let secrets: ConsoleSecrets
    let store: Store
    let config: Config
    let oidc: OpenIDClient?
    let logger: Logger

    func register(on router: Router<HeraldRequestContext>) {
        router.get("/login") { request, _ in
            let next = ConsolePath.safe(request.uri.queryParameters["next"].map(String.init))
            if try await sessions.viewer(request) != nil { return Response.redirect(to: next, type: .found) }
            return ConsoleResponse.html(pages.signIn(next: next))
        }
        router.get("/login/link/:token") { request, context in
            try await showLink(context.parameters.get("token") ?? "", next: request.uri.queryParameters["next"].map(String.init))
        }
        router.post("/login/link") { request, _ in try await useLink(request) }
        router.get("/login/oidc") { request, _ in
            try await startOIDC(next: ConsolePath.safe(request.uri.queryParameters["next"].map(String.init)))
        }
        router.get("/login/oidc/callback") { request, _ in try await finishOIDC(request) }
        router.post("/logout") { request, _ in try await signOut(request) }
    }

    private func refused(_ title: String, _ text: String, status: HTTPResponse.Status = .forbidden) -> Response {
        ConsoleResponse.html(pages.notice(title: title, paragraphs: [text], link: ("/login", "Back to sign-in")), status: status)
    }

    // MARK: One-time links

    private func showLink(_ token: String, next: String?) async throws -> Response {
        guard token.utf8.count <= 100 else { return refused("This sign-in link is not valid", "Ask for a new one.", status: .notFound) }
        switch try await store.signInLink(tokenHash: ConsoleSecrets.hash(token)) {
        case .valid(let email, let expires):
            return ConsoleResponse.html(pages.signInLink(token: token, email: email, expires: expires, next: ConsolePath.safe(next)))
        case .used:
            return refused("This sign-in link was already used", "Each link signs in once. Type `/herald login` in chat for a new one.")
        case .expired:
            return refused("This sign-in link has expired", "Type `/herald login` in chat for a new one.")
        case .unknown:
            return refused("This sign-in link is not valid", "Check that the whole link was copied, or ask for a new one.", status: .notFound)
        }
    }

    private func useLink(_ request: Request) async throws -> Response {
        // No session yet, so no CSRF token: a form on another site could sign the browser in as the link's
        // owner. Browsers name the form's origin; one that is neither `public_url`'s nor the request's host
        // (a reverse proxy may rewrite `Host`) is refused.
        if let origin = request.headers[.origin] {
            let from = URLComponents(string: origin).map(hostAndPort)
            let ours = [URLComponents(string: config.server.publicURL).map(hostAndPort), request.head.authority?.lowercased()]
            guard let from, ours.contains(from) else {
                return refused("This sign-in came from another site", "Open the link itself in your browser.")
            }
        }
        let body = try await request.readBody(upTo: 16 << 10, within: config.server.bodyTimeout)
        let fields = FormBody.parse(Array(buffer: body))
        let token = fields["token"] ?? ""
        guard !token.isEmpty, token.utf8.count <= 100, let email = try await store.redeemSignInLink(tokenHash: ConsoleSecrets.hash(token))
        else {
            return refused("This sign-in link cannot be used", "It was already used, has expired, or is not one Herald made. Ask for a new one.")
        }
        guard let user = config.user(email: email) else {
            return refused("You are no longer a Herald user", "\(email) is not in the config's users.")
        }
        logger.info("signed in to the console", metadata: ["user": "\(user.email)", "method": "link"])
        return try await sessions.signIn(user, method: "link", next: fields["next"] ?? "/issues", replacing: request)
    }

    /// `host[:port]` of an origin, as a `Host` header names it.
    private func hostAndPort(_ origin: URLComponents) -> String {
        (origin.host ?? "").lowercased() + (origin.port.map { ":\($0)" } ?? "")
    }

    // MARK: OpenID Connect

    private func startOIDC(next: String) async throws -> Response {
        guard let oidc else { return refused("No OpenID Connect provider is configured", "Sign in with a one-time link.", status: .notFound) }
        do {
            let (url, pending) = try await oidc.start(next: next)
            let encoded = try JSONEncoder().encode(pending)
            var response = Response.redirect(to: url, type: .found)
            response.setCookie(sessions.cookie(
                ConsoleSessions.oidcCookieName, secrets.signed(Base64URL.encode(encoded)), maxAge: 600))
            return response
        } catch {
            logger.warning("OpenID Connect sign-in could not start", metadata: ["error": "\(error)"])
            return refused("Sign-in with \(oidc.provider.name) is not available", "\(error)", status: .badGateway)
        }
    }

    private func finishOIDC(_ request: Request) async throws -> Response {
        guard let oidc else { return refused("No OpenID Connect provider is configured", "Sign in with a one-time link.", status: .notFound) }
        let query = request.uri.queryParameters
        if let error = query["error"] {
            return refused("\(oidc.provider.name) did not sign you in", "The provider answered: \(error.prefix(100)).")
        }
        guard let cookie = request.cookies[ConsoleSessions.oidcCookieName], let value = secrets.verified(cookie.value),
            let data = Base64URL.decode(value), let pending = try? JSONDecoder().decode(OpenIDClient.Request.self, from: data)
        else {
            return refused("This sign-in has no matching start", "Start again from the sign-in page (cookies must be enabled).")
        }
        guard pending.expires > Date().timeIntervalSince1970 else {
            return refused("This sign-in took too long", "Start again from the sign-in page.")
        }
        guard let state = query["state"], ConstantTime.equal(String(state), pending.state) else {
            return refused("This sign-in does not match the one started here", "The state did not match. Start again from the sign-in page.")
        }
        guard let code = query["code"], !code.isEmpty, code.utf8.count <= 4_096 else {
            return refused("The provider sent no code", "Start again from the sign-in page.")
        }
        let claims: IDTokenClaims
        do {
            claims = try await oidc.finish(code: String(code), request: pending)
        } catch {
            logger.warning("OpenID Connect sign-in refused", metadata: ["error": "\(error)"])
            return refused("Sign-in with \(oidc.provider.name) was refused", error.description)
        }
        guard let user = config.user(email: claims.email) else {
            return refused(
                "\(claims.email) is not a Herald user",
                "Only the users in the config (`users:` in herald.yaml) can sign in. Ask a Herald admin to add you.")
        }
        logger.info("signed in to the console", metadata: ["user": "\(user.email)", "method": "oidc"])
        return try await sessions.signIn(user, method: "oidc", next: pending.next, replacing: request)
    }

    private func signOut(_ request: Request) async throws -> Response {
        guard let viewer = try await sessions.viewer(request) else { return Response.redirect(to: "/login", type: .normal) }
        let body = try await request.readBody(upTo: 16 << 10, within: config.server.bodyTimeout)
        guard let token = FormBody.parse(Array(buffer: body))["csrf"], ConstantTime.equal(token, viewer.csrf) else {
            return refused("This form has expired", "Reload the page and sign out again.")
        }
        return try await sessions.signOut(request)
    }
}
