import Foundation
import HeraldConfig
import HeraldConsole
import HeraldCore
import HeraldStore
import Hummingbird

/// Who is signed in to the console, from the session cookie, and the cookies that start and end sessions.
///
/// The cookie holds a random session id signed with the database's console key (a changed byte is refused
/// before the store is asked); the store keeps the id's hash with the email, the CSRF token and the expiries.
/// A session whose user has left the config signs no one in.
struct ConsoleSessions: Sendable {
    static let cookieName = "herald_session"
    static let oidcCookieName = "herald_oidc"

    let store: Store
    let config: Config
    let secrets: ConsoleSecrets

    /// Cookies are Secure when people reach Herald over https.
    var secure: Bool { config.server.publicURL.lowercased().hasPrefix("https://") }

    /// The signed-in person, or nil.
    func viewer(_ request: Request) async throws -> Viewer? {
        guard let id = sessionID(request) else { return nil }
        guard let session = try await store.session(idHash: ConsoleSecrets.hash(id), idle: config.console.sessionIdle),
            let user = config.user(email: session.email)
        else { return nil }
        return Viewer(user: user, csrf: session.csrf)
    }

    /// The verified session id of the request's cookie.
    func sessionID(_ request: Request) -> String? {
        request.cookies[Self.cookieName].flatMap { secrets.verified($0.value) }
    }

    /// Starts a session for `user` and answers with its cookie and a redirect to `next`. Any session the
    /// browser had ends: the id changes at every sign-in.
    func signIn(_ user: Config.User, method: String, next: String, replacing request: Request) async throws -> Response {
        if let old = sessionID(request) { try await store.endSession(idHash: ConsoleSecrets.hash(old)) }
        let id = ConsoleSecrets.token()
        try await store.startSession(
            idHash: ConsoleSecrets.hash(id), email: user.email, csrf: ConsoleSecrets.token(), method: method,
            lifetime: config.console.sessionLifetime)
        var response = Response.redirect(to: ConsolePath.safe(next), type: .normal)
        if request.cookies[Self.oidcCookieName] != nil {
            response.setCookie(cookie(Self.oidcCookieName, "", maxAge: 0))
        }
        response.setCookie(cookie(Self.cookieName, secrets.signed(id), maxAge: Int(config.console.sessionLifetime)))
        return response
    }

    /// Ends the request's session and clears its cookie.
    func signOut(_ request: Request) async throws -> Response {
        if let id = sessionID(request) { try await store.endSession(idHash: ConsoleSecrets.hash(id)) }
        var response = Response.redirect(to: "/login", type: .found)
        response.setCookie(cookie(Self.cookieName, "", maxAge: 0))
        return response
    }

    func cookie(_ name: String, _ value: String, maxAge: Int) -> Cookie {
        Cookie(name: name, value: value, maxAge: maxAge, path: "/", secure: secure, httpOnly: true, sameSite: .lax)
    }
}

/// Local paths a sign-in may return to.
enum ConsolePath {
    /// `next` when it is a path on this server, else the issue list: an open redirect would let a link
    /// signed by Herald send people anywhere.
    /// Browsers drop tabs and newlines from URLs and read `\` as `/`, so `/\t/evil.com` would become
    /// `//evil.com`: only printable ASCII other than `\` passes.
    static func safe(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), next.utf8.count <= 2_000,
            next.utf8.allSatisfy({ (0x21...0x7E).contains($0) && $0 != UInt8(ascii: "\\") })
        else { return "/issues" }
        return next
    }
}
