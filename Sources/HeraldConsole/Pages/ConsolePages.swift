// HeraldConsole is the web console: server-rendered pages for issues, rules and deliveries, and sign-in
// (one-time links and OpenID Connect). It renders through swift-mustache, whose `{{…}}` escapes HTML; it
// reads through the same store functions as the admin API and knows nothing of HTTP: the server's routes
// turn requests into calls here and the answers into responses.

import Foundation
import HeraldConfig
import HeraldRules
import HeraldStore
import Mustache

/// The rules a page shows: the running set, when it was loaded, and the last failed reload.
public struct LoadedRules: Sendable {
    public var engine: RuleEngine
    public var loadedAt: Date
    public var failure: (at: Date, errors: [String])?

    public init(engine: RuleEngine, loadedAt: Date, failure: (at: Date, errors: [String])?) {
        self.engine = engine
        self.loadedAt = loadedAt
        self.failure = failure
    }
}

/// Renders the console's pages.
public struct ConsolePages: Sendable {
    let store: Store
    let config: Config
    /// The running rules, read at each render (reloads swap them).
    let rules: @Sendable () -> LoadedRules
    let renderer: Renderer

    public init(store: Store, config: Config, rules: @escaping @Sendable () -> LoadedRules) {
        self.store = store
        self.config = config
        self.rules = rules
        renderer = Renderer()
    }

    /// The templates, parsed once per process.
    struct Renderer: Sendable {
        let library: MustacheLibrary

        init() {
            library = Self.shared
        }

        /// swift-mustache parses a template by recursing once per nested section, with large frames in a
        /// debug build. One full test run crashed inside that parse on a concurrency thread, with a bad read at
        /// a page boundary, as a stack overflow reads; the cause was not proven. The templates are therefore
        /// parsed once, on a thread of their own with a 16 MiB stack, instead of at every server start on
        /// whatever thread starts it.
        static let shared: MustacheLibrary = {
            let parsed = ParsedLibrary()
            let done = DispatchSemaphore(value: 0)
            let thread = Thread {
                var library = MustacheLibrary()
                for (name, text) in Templates.all {
                    // The templates are part of the program; one that does not parse is a bug every test hits.
                    do {
                        try library.register(text, named: name)
                    } catch {
                        preconditionFailure("console template '\(name)' does not parse: \(error)")
                    }
                }
                parsed.library = library
                done.signal()
            }
            thread.stackSize = 16 << 20
            thread.start()
            done.wait()
            return parsed.library
        }()

        func render(_ model: Any, as name: String) -> String {
            library.render(model, withTemplate: name) ?? ""
        }
    }

    /// Hands the parsed library from its thread to the waiting initializer; written once, before the signal
    /// the reader waits for.
    private final class ParsedLibrary: @unchecked Sendable {
        var library = MustacheLibrary()
    }

    /// A page with a heading, paragraphs and an optional link: sign-in problems, refusals, not found.
    public func notice(
        title: String, paragraphs: [String], link: (href: String, label: String)? = nil, viewer: Viewer? = nil
    ) -> String {
        struct Link { var href: String; var label: String }
        struct Page {
            var title: String
            var paragraphs: [String]
            var link: Link?
            var viewer: ViewerModel?
            var csrf: String?
            var nav = Navigation()
            var stylesheet = Stylesheet.path
        }
        return renderer.render(
            Page(title: title, paragraphs: paragraphs, link: link.map { Link(href: $0.href, label: $0.label) },
                 viewer: viewer.map(ViewerModel.init), csrf: viewer?.csrf),
            as: "notice")
    }

    /// The sign-in page; `next` is where to return afterwards.
    public func signIn(next: String, problem: String? = nil) -> String {
        struct Provider { var name: String }
        struct Page {
            var title = "Sign in"
            var problem: String?
            var oidc: Provider?
            var nextEncoded: String
            var linkMinutes: Int
            var stylesheet = Stylesheet.path
        }
        return renderer.render(
            Page(problem: problem, oidc: config.console.oidc.map { Provider(name: $0.name) },
                 nextEncoded: FormEncoding.escape(next), linkMinutes: Int(config.console.signInLinkLifetime / 60)),
            as: "sign-in")
    }

    /// The page a one-time link opens: a button that uses it, so link previews and scanners that fetch it do
    /// not spend it.
    public func signInLink(token: String, email: String, expires: Date, next: String) -> String {
        struct Page {
            var title = "Sign in"
            var token: String
            var email: String
            var expires: String
            var next: String
            var stylesheet = Stylesheet.path
        }
        return renderer.render(
            Page(token: token, email: email, expires: Moment(expires).text, next: next), as: "sign-in-link")
    }
}
