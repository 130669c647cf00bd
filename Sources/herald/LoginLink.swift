import ArgumentParser
import Foundation
import HeraldConsole
import HeraldStore

struct LoginLink: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login-link",
        abstract: "Print a one-time link that signs a user in to the web console (works while Herald runs).",
        discussion: """
            The link is good once, within console.sign_in_link_minutes (10 by default), for a user in the \
            config's `users`. Chat users get the same with `/herald login`.
            """)

    @OptionGroup var options: ConfigOptions

    @Option(help: "The email of a user in the config.")
    var email: String

    @Option(help: "The console page to open after sign-in.")
    var next = "/issues"

    func run() async throws {
        let config = try options.load()
        guard config.user(email: email) != nil else {
            throw failure("\(email) is not a user in \(options.config); the users are: "
                + config.users.map(\.email).joined(separator: ", "))
        }
        // The database is made if Herald has not run yet, so the link works at its first start.
        let store = try Store(path: config.storage.sqlite)
        let link = try await SignInLinks(store: store, config: config).issue(email: email, via: "the command line", next: next)
        print(link)
    }
}
