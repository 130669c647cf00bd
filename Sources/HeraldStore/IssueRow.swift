import Foundation
import GRDB
import HeraldCore

/// Reads issues from rows of `issues` joined with their project's slug, for the short id.
enum IssueRow {
    /// The columns in the order `issue(_:)` reads them by position: a lookup by name costs a case-insensitive
    /// string comparison per column, on every event.
    static let select = """
        SELECT issues.id, issues.project_id, issues.number, projects.slug, issues.fingerprint, issues.title,
               issues.culprit, issues.level, issues.status, issues.substatus, issues.first_seen, issues.last_seen,
               issues.times_seen, issues.users_seen, issues.last_release, issues.assignee, issues.ignore_kind,
               issues.ignore_until, issues.ignore_count, issues.ignore_baseline, issues.resolved_at,
               issues.resolved_in_next_release_after, issues.regressed_at
        FROM issues JOIN projects ON projects.id = issues.project_id
        """

    static let byID = select + " WHERE issues.id = ?"
    static let byFingerprint = select + " WHERE issues.project_id = ? AND issues.fingerprint = ?"
    static let byShortID = select + " WHERE projects.slug = ? AND issues.number = ?"

    /// One issue by one of the queries above, whose text is built once, not per event.
    static func fetchOne(_ db: Database, _ sql: String, _ arguments: StatementArguments) throws -> Issue? {
        try Row.fetchOne(db.cachedStatement(sql: sql), arguments: arguments).map(issue)
    }

    static func fetchAll(_ db: Database, sql suffix: String, _ arguments: StatementArguments) throws -> [Issue] {
        try Row.fetchAll(db.cachedStatement(sql: "\(select) \(suffix)"), arguments: arguments).map(issue)
    }

    static func issue(_ row: Row) -> Issue {
        let number: Int = row[2]
        let ignore: IgnoreCondition? = switch row[16] as String? {
        case "forever": .forever
        case "until": .until(Date(timeIntervalSince1970: row[17]))
        case "count": .untilMoreEvents(count: row[18], baseline: row[19])
        default: nil
        }
        let resolution = (row[20] as Double?).map {
            Resolution(at: Date(timeIntervalSince1970: $0), inNextReleaseAfter: row[21])
        }
        return Issue(
            id: row[0], projectID: row[1], number: number, shortID: Issue.shortID(slug: row[3], number: number),
            fingerprint: row[4], title: row[5], culprit: row[6], level: Level(name: row[7]) ?? .error,
            status: IssueStatus(rawValue: row[8]) ?? .unresolved, substatus: IssueSubstatus(rawValue: row[9]) ?? .ongoing,
            firstSeen: Date(timeIntervalSince1970: row[10]), lastSeen: Date(timeIntervalSince1970: row[11]),
            timesSeen: row[12], usersSeen: row[13], lastRelease: row[14],
            assignee: (row[15] as String?).map(Assignee.init(stored:)), ignore: ignore, resolution: resolution,
            regressedAt: (row[22] as Double?).map(Date.init(timeIntervalSince1970:)))
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
