import ArgumentParser
import Foundation
import HeraldConfig
import HeraldCore
import HeraldServer
import HeraldStore

struct Issues: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List and show issues, and act on them as chat buttons do (recorded, and every chat message of the issue updated).",
        subcommands: [List.self, Show.self, Resolve.self, Unresolve.self, Ignore.self, Assign.self, Ack.self])

    /// What every action takes: the issue and who acts.
    struct Target: ParsableArguments {
        @OptionGroup var options: ConfigOptions

        @Argument(help: "The issue, by id or short id (PAYMENTS-12).")
        var issue: String

        @Option(help: "The Herald user acting, by email (default: the system user, as an admin).")
        var by: String?

        /// Carries out the action and prints what happened; a running `herald serve` sends the message updates.
        func perform(_ action: IssueAction) async throws {
            let config = try options.load()
            let store = try options.existingStore(config)
            guard let found = try await store.issue(issue) else { throw failure("no issue '\(issue)'") }
            var user: Config.User?
            if let by {
                guard let named = config.user(email: by) else { throw failure("\(by) is not a user in \(options.config)") }
                user = named
            }
            let name = user?.name ?? ProcessInfo.processInfo.environment["USER"] ?? "an admin"
            let actor = Actor(email: user?.email, name: name, surface: "the command line")
            do {
                switch try await IssueActions(store: store, config: config).perform(action, on: found.id, actor: actor, user: user) {
                case .changed(_, let record): print("\(found.shortID): \(record.summary)")
                case .unchanged(let issue): print("\(found.shortID): already \(issue.stateDescription); nothing changed")
                case .duplicate: print("\(found.shortID): already done")
                }
            } catch let refusal as IssueActions.Refusal {
                throw failure("herald: \(refusal)")
            }
        }
    }

    struct Resolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Resolve an issue.")
        @OptionGroup var target: Target
        @Flag(help: "Resolve in the next release: only an event from a newer release regresses it.")
        var nextRelease = false
        func run() async throws { try await target.perform(nextRelease ? .resolveInNextRelease : .resolve) }
    }

    struct Unresolve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Mark an issue unresolved (also ends an ignore).")
        @OptionGroup var target: Target
        func run() async throws { try await target.perform(.unresolve) }
    }

    struct Ignore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Ignore an issue for a while, for some events, or forever.")
        @OptionGroup var target: Target
        @Option(name: .customLong("for"), help: "How long: 30m, 2h, 24h, or seconds.")
        var duration: String?
        @Option(help: "Until this many more events.")
        var events: Int?
        @Flag(help: "Forever.")
        var forever = false

        func validate() throws {
            guard [duration != nil, events != nil, forever].filter({ $0 }).count == 1 else {
                throw ValidationError("give exactly one of --for, --events and --forever")
            }
            if let duration, Self.seconds(duration) == nil {
                throw ValidationError(
                    "--for takes 30m, 2h, 1d12h, 7d or a number of seconds, at most \(IssueAction.maxIgnoreSeconds / 86_400) "
                        + "days, not '\(duration.prefix(40))'")
            }
            if let events, !(1...IssueAction.maxIgnoreEvents).contains(events) {
                throw ValidationError("--events must be 1 to \(IssueAction.maxIgnoreEvents)")
            }
        }

        /// A duration as people type it, in seconds; nil unless it is 1 s to the longest ignore.
        static func seconds(_ text: String) -> Int? {
            SpokenDuration.seconds(text, limit: IssueAction.maxIgnoreSeconds)
        }

        func run() async throws {
            let choice: IssueAction.IgnoreChoice
            if let duration {
                guard let seconds = Self.seconds(duration) else { throw ValidationError("--for '\(duration.prefix(40))'") }
                choice = .duration(seconds: seconds)
            } else if let events {
                choice = .moreEvents(events)
            } else {
                choice = .forever
            }
            try await target.perform(.ignore(choice))
        }
    }

    struct Assign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Assign an issue to a Herald user, or to nobody.")
        @OptionGroup var target: Target
        @Option(help: "The assignee's email.")
        var to: String?
        @Flag(help: "Remove the assignee.")
        var nobody = false

        func validate() throws {
            guard (to != nil) != nobody else { throw ValidationError("give --to EMAIL or --nobody") }
        }

        func run() async throws { try await target.perform(to.map { .assign(email: $0) } ?? .unassign) }
    }

    struct Ack: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Acknowledge an issue: say you are on it.")
        @OptionGroup var target: Target
        func run() async throws { try await target.perform(.acknowledge) }
    }
}
