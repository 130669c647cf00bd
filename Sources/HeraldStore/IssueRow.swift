import Foundation
import GRDB
import HeraldCore

/// Reads issues from rows of `issues` joined with their project's slug, for the short id.
enum IssueRow {
    static let select = "SELECT issues.*, projects.slug AS project_slug FROM issues JOIN projects ON projects.id = issues.project_id"

    static func fetchOne(_ db: Database, where condition: String, _ arguments: StatementArguments) throws -> Issue? {
        try Row.fetchOne(db.cachedStatement(sql: "\(select) WHERE \(condition)"), arguments: arguments).map(issue)
    }

    static func fetchAll(_ db: Database, sql suffix: String, _ arguments: StatementArguments) throws -> [Issue] {
        try Row.fetchAll(db.cachedStatement(sql: "\(select) \(suffix)"), arguments: arguments).map(issue)
    }

    static func issue(_ row: Row) -> Issue {
        let number: Int = row["number"]
        let ignore: IgnoreCondition? = switch row["ignore_kind"] as String? {
        case "forever": .forever
        case "until": .until(Date(timeIntervalSince1970: row["ignore_until"]))
        case "count": .untilMoreEvents(count: row["ignore_count"], baseline: row["ignore_baseline"])
        default: nil
        }
        let resolution = (row["resolved_at"] as Double?).map {
            Resolution(at: Date(timeIntervalSince1970: $0), inNextReleaseAfter: row["resolved_in_next_release_after"])
        }
        return Issue(
            id: row["id"], projectID: row["project_id"], number: number,
            shortID: Issue.shortID(slug: row["project_slug"], number: number), fingerprint: row["fingerprint"],
            title: row["title"], culprit: row["culprit"], level: Level(name: row["level"]) ?? .error,
            status: IssueStatus(rawValue: row["status"]) ?? .unresolved,
            substatus: IssueSubstatus(rawValue: row["substatus"]) ?? .ongoing,
            firstSeen: Date(timeIntervalSince1970: row["first_seen"]), lastSeen: Date(timeIntervalSince1970: row["last_seen"]),
            timesSeen: row["times_seen"], usersSeen: row["users_seen"], lastRelease: row["last_release"],
            assignee: (row["assignee"] as String?).map(Assignee.init(stored:)), ignore: ignore, resolution: resolution,
            regressedAt: (row["regressed_at"] as Double?).map(Date.init(timeIntervalSince1970:)))
    }
}

extension Issue {
    /// The columns an event or a person's action changes, as `column = ?` for an UPDATE.
    static let stateAssignments = """
        level = ?, status = ?, substatus = ?, last_seen = ?, times_seen = ?, users_seen = ?, last_release = ?,
        assignee = ?, ignore_kind = ?, ignore_until = ?, ignore_count = ?, ignore_baseline = ?, resolved_at = ?,
        resolved_in_next_release_after = ?, regressed_at = ?
        """

    /// The values for `stateAssignments`, in its order.
    var stateArguments: StatementArguments {
        var ignoreKind: String?
        var ignoreUntil: Double?
        var ignoreCount: Int?
        var ignoreBaseline: Int?
        switch ignore {
        case .forever: ignoreKind = "forever"
        case .until(let date):
            ignoreKind = "until"
            ignoreUntil = date.timeIntervalSince1970
        case .untilMoreEvents(let count, let baseline):
            ignoreKind = "count"
            ignoreCount = count
            ignoreBaseline = baseline
        case nil: break
        }
        return [
            level.name, status.rawValue, substatus.rawValue, lastSeen.timeIntervalSince1970, timesSeen, usersSeen,
            lastRelease, assignee?.stored, ignoreKind, ignoreUntil, ignoreCount, ignoreBaseline,
            resolution?.at.timeIntervalSince1970, resolution?.inNextReleaseAfter, regressedAt?.timeIntervalSince1970,
        ]
    }
}

extension Assignee {
    /// `team:NAME` for a team, the email for a user.
    var stored: String { description }

    init(stored: String) {
        self = stored.hasPrefix("team:") ? .team(String(stored.dropFirst(5))) : .user(email: stored)
    }
}

/// JSON text for the outbox's list columns.
enum JSONText {
    static func array(_ values: [String]) -> String {
        let data = try! JSONSerialization.data(withJSONObject: values, options: [.withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    static func decodeArray(_ text: String?) -> [String] {
        guard let text, let data = text.data(using: .utf8),
            let values = try? JSONSerialization.jsonObject(with: data) as? [String]
        else { return [] }
        return values
    }
}
