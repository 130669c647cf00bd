import ArgumentParser
import Foundation
import HeraldConfig
import HeraldCore
import HeraldStore

extension Issues {
    /// `herald issues list`: what `GET /api/v1/issues` gives, as a table.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List issues, most recently seen first (works while Herald runs).")

        @OptionGroup var options: ConfigOptions

        @Option(help: "Only this project, by slug or id.")
        var project: String?

        @Option(help: "Only this status: unresolved, resolved or ignored.")
        var status: String?

        @Option(help: "How many to show (1 to 500).")
        var limit = 50

        func validate() throws {
            guard (1...500).contains(limit) else { throw ValidationError("--limit must be 1 to 500, not \(limit)") }
            if let status, IssueStatus(rawValue: status) == nil {
                throw ValidationError("unknown status '\(status.prefix(40))'; expected unresolved, resolved or ignored")
            }
        }

        func run() async throws {
            let config = try options.load()
            let store = try options.existingStore(config)
            var query = IssueQuery(status: status.flatMap(IssueStatus.init(rawValue:)), limit: limit)
            if let project {
                guard let found = Int(project).flatMap(config.project(id:)) ?? config.project(slug: project) else {
                    throw failure("no project '\(project)'; projects: \(config.projects.map(\.slug).joined(separator: ", "))")
                }
                query.projectID = found.id
            }
            let issues = try await store.issues(query).issues
            guard !issues.isEmpty else {
                print("no issues match")
                return
            }
            print(table(
                header: ["ID", "SHORT ID", "LEVEL", "STATE", "EVENTS", "USERS", "LAST SEEN", "TITLE"],
                rows: issues.map { issue in
                    [String(issue.id), issue.shortID, issue.level.name, issue.stateDescription, String(issue.timesSeen),
                     String(issue.usersSeen), Timestamp.text(issue.lastSeen), String(issue.title.prefix(80))]
                }))
        }
    }

    /// `herald issues show`: what `GET /api/v1/issues/<id>` gives, for people.
    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one issue: its state, latest events, firings, deliveries and who did what.")

        @OptionGroup var options: ConfigOptions

        @Argument(help: "The issue, by id or short id (PAYMENTS-12).")
        var issue: String

        func run() async throws {
            let config = try options.load()
            let store = try options.existingStore(config)
            guard let found = try await store.issue(issue) else { throw failure("no issue '\(issue.prefix(40))'") }
            let project = config.project(id: found.projectID)?.slug ?? String(found.projectID)
            print("\(found.shortID)  \(found.title)")
            print("  project \(project) · level \(found.level.name) · \(found.stateDescription)")
            if let culprit = found.culprit { print("  culprit \(culprit)") }
            if let assignee = found.assignee { print("  assigned to \(assignee)") }
            if let ack = try await store.acknowledgement(issue: found) {
                print("  acknowledged by \(ack.name) at \(Timestamp.text(ack.at)) via \(ack.surface)")
            }
            print("  events \(found.timesSeen) · users \(found.usersSeen) · first seen \(Timestamp.text(found.firstSeen)) · last seen \(Timestamp.text(found.lastSeen))")
            print("  \(config.server.publicURL)/issues/\(found.id)")
            let events = try await store.events(issue: found.id, limit: 5)
            print("\nlatest events")
            for event in events {
                print("  \(event.eventID)  \(Timestamp.text(event.receivedAt))  \(event.environment ?? "-")  \(event.release ?? "-")")
            }
            let firings = try await store.firings(issue: found.id, limit: 10)
            print("\nfirings")
            if firings.isEmpty { print("  none") }
            for firing in firings {
                print("  \(Timestamp.text(firing.firedAt))  \(firing.rule)  (\(firing.state), event \(firing.eventID.prefix(12)))")
            }
            let deliveries = try await store.deliveries(issue: found.id, limit: 10)
            print("\ndeliveries")
            if deliveries.isEmpty { print("  none") }
            for entry in deliveries {
                // The channel the rule named, and where it really went when that differs (a fallback channel).
                var channel = entry.channel ?? ""
                if let went = entry.deliveredChannel, went != channel { channel += channel.isEmpty ? went : " → \(went)" }
                print("  #\(entry.id ?? 0)  \(entry.purpose.rawValue) \(entry.kind.rawValue) \(entry.target) \(channel)  \(entry.status.rawValue)"
                      + (entry.lastError.map { "  (\($0.prefix(100)))" } ?? ""))
            }
            let actions = try await store.actions(issue: found.id, limit: 10)
            print("\nwho did what")
            if actions.isEmpty { print("  nobody has acted") }
            for record in actions { print("  \(Timestamp.text(record.at))  \(record.summary)") }
        }
    }
}
