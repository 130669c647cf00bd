import Foundation
import HeraldConfig
import HeraldStore

/// One-time sign-in links: what `/herald login` answers in chat and `herald login-link` prints.
///
/// The link carries 32 random bytes; the store keeps only their hash, with the email, an expiry
/// (`console.sign_in_link_minutes`) and whether it was used. Opening it shows a button, and only that POST
/// spends it, so chat link previews and mail scanners that fetch it cannot.
public struct SignInLinks: Sendable {
    let store: Store
    let config: Config

    public init(store: Store, config: Config) {
        self.store = store
        self.config = config
    }

    /// Why no link was made.
    public enum Refusal: Error, CustomStringConvertible {
        case unknownPerson(String)

        public var description: String {
            switch self {
            case .unknownPerson(let email):
                "\(email.prefix(100)) is not a Herald user; only the users in the config (`users:` in herald.yaml) can sign in"
            }
        }
    }

    /// A new link for the configured user with this email. `next` is the console page it opens after
    /// sign-in.
    public func issue(email: String, via: String, next: String = "/issues", now: Date = Date()) async throws -> String {
        guard let user = config.user(email: email) else { throw Refusal.unknownPerson(email) }
        let token = ConsoleSecrets.token()
        try await store.issueSignInLink(
            tokenHash: ConsoleSecrets.hash(token), email: user.email, via: via,
            lifetime: config.console.signInLinkLifetime, now: now)
        let path = next == "/issues" ? "" : "?next=" + FormEncoding.escape(next)
        return config.server.publicURL + "/login/link/" + token + path
    }
}
