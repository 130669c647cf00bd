import ArgumentParser
import Foundation
import HeraldCore
import HeraldStore

struct Deliveries: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List deliveries, newest first, from the database in the config (works while Herald runs).")

    @OptionGroup var options: ConfigOptions

    @Flag(help: "Only deliveries that failed for good or were given up.")
    var failed = false

    @Option(help: "Only this status: pending, retrying, delivered, failed or dead.")
    var status: String?

    @Option(help: "Only this issue, by id or short id (PAYMENTS-12).")
    var issue: String?

    @Option(help: "How many to show.")
    var limit = 50

    func run() async throws {
        let config = try options.load()
        var query = DeliveryQuery(limit: limit)
        if failed { query.statuses = [.failed, .dead] }
        if let status {
            guard let value = DeliveryStatus(rawValue: status) else {
                throw ValidationError("unknown status '\(status)'; expected \(DeliveryStatus.spelledOut)")
            }
            query.statuses = [value]
        }
        let store = try options.existingStore(config)
        var shortIDs: [Int64: String] = [:]
        if let issue {
            guard let found = try await store.issue(issue) else { throw failure("no issue '\(issue)'") }
            query.issueID = found.id
        }
        let entries = try await store.deliveries(query)
        for id in Set(entries.map(\.issueID)) { shortIDs[id] = try await store.issue(String(id))?.shortID }
        let rows = entries.map { entry -> [String] in
            let destination = (entry.purpose == .alert ? "" : entry.purpose.rawValue + " ")
                + "\(entry.kind.rawValue) \(entry.target)"
                + (entry.channel.map { " " + $0 } ?? "")
            var detail = entry.lastError ?? ""
            if entry.status.isOpen {
                detail = "next attempt \(Timestamp.text(entry.nextAttemptAt))" + (detail.isEmpty ? "" : "; last error: " + detail)
            } else if let ref = entry.deliveredRef {
                detail = "posted to \(entry.deliveredChannel ?? "?") as \(ref)"
            }
            let issue = shortIDs[entry.issueID] ?? String(entry.issueID)
            return [
                String(entry.id ?? 0), entry.status.rawValue, String(entry.attempts), issue, destination,
                Timestamp.text(entry.updatedAt), detail,
            ]
        }
        guard !rows.isEmpty else {
            print("no deliveries match")
            return
        }
        print(table(header: ["ID", "STATUS", "TRIES", "ISSUE", "TO", "UPDATED", "DETAIL"], rows: rows))
    }
}
