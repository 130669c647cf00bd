import Foundation
import HeraldCore

/// The input of `herald explain`: an event in Sentry's shape plus `project`, and optionally the `issue` it
/// lands on, the evaluation time `now` and the project's `latest_release`.
///
/// ```json
/// {"project": "payments", "level": "error", "message": "timeout", "tags": {"region": "eu-west-1"},
///  "issue": {"state": "ongoing", "times_seen": 40, "first_seen": "2026-11-01T00:00:00Z",
///            "assignee": "alice@example.com", "counts": {"events": {"1h": 150, "1h@1w": 20}, "users": {"1h": 9}}}}
/// ```
/// Without `issue` the event is the first of a new issue: state new, seen once, one event (and one user if the
/// event names one) in every window. Count keys are an interval (`1h`), or an interval and how long ago
/// that window ended (`1h@1w`) for `frequency_change`.
public struct ExplainInput: Sendable {
    public var project: String
    public var event: Event
    public var issue: IssueFacts
    public var counts: FixedCounts
    public var now: Date
    public var latestRelease: String?

    public var context: EvaluationContext {
        EvaluationContext(project: project, issue: issue, now: now, latestRelease: latestRelease, counts: counts)
    }

    public struct InvalidInput: Error, CustomStringConvertible {
        public var description: String
    }

    public init(json: Data, now defaultNow: Date = Date()) throws(InvalidInput) {
        do {
            try JSONShape.check(json)
        } catch {
            throw InvalidInput(description: error.description)
        }
        let decoder = JSONDecoder()
        do {
            let event = try decoder.decode(Event.self, from: json)
            let extras = try decoder.decode(Extras.self, from: json)
            guard let project = extras.project, !project.isEmpty else {
                throw InvalidInput(description: "the input needs \"project\": the slug of the event's project")
            }
            self.project = project
            self.event = event
            self.now = extras.now?.date ?? event.timestamp ?? defaultNow
            self.latestRelease = extras.latestRelease
            if let issue = extras.issue {
                self.issue = IssueFacts(
                    state: issue.state ?? .ongoing, timesSeen: issue.timesSeen ?? 1,
                    firstSeen: issue.firstSeen?.date ?? now, assignee: issue.assignee?.value)
                self.counts = try Self.counts(issue.counts ?? [:])
            } else {
                self.issue = IssueFacts(state: .new, timesSeen: 1, firstSeen: now)
                var values: [FixedCounts.Key: Int] = [:]
                for window in Interval.allCases {
                    values[.init(.events, window)] = 1
                    values[.init(.users, window)] = event.user?.id != nil || event.user?.email != nil ? 1 : 0
                }
                self.counts = FixedCounts(values)
            }
        } catch let error as InvalidInput {
            throw error
        } catch let error as DecodingError {
            throw InvalidInput(description: Self.describe(error))
        } catch {
            throw InvalidInput(description: "the input is not valid JSON: \(error)")
        }
    }

    private static func counts(_ raw: [String: [String: Int]]) throws(InvalidInput) -> FixedCounts {
        var values: [FixedCounts.Key: Int] = [:]
        for (metricName, windows) in raw {
            guard let metric = CountMetric(rawValue: metricName) else {
                throw InvalidInput(description: "issue.counts: unknown counter '\(metricName)'; allowed: events, users")
            }
            for (key, value) in windows {
                let parts = key.split(separator: "@", maxSplits: 1).map(String.init)
                guard let window = Interval(rawValue: parts[0]),
                    parts.count == 1 || Interval(rawValue: parts[1]) != nil
                else {
                    throw InvalidInput(description: "issue.counts.\(metricName): '\(key)' is not an interval "
                        + "(\(Interval.names.joined(separator: ", "))) or interval@interval")
                }
                values[.init(metric, window, endingAgo: parts.count == 2 ? Interval(rawValue: parts[1]) : nil)] = value
            }
        }
        return FixedCounts(values)
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return path.isEmpty ? "the input" : String(path.drop { $0 == "." })
        }
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            return "\(path(context)): wrong type (\(context.debugDescription))"
        case .keyNotFound(let key, let context):
            return "\(path(context)): missing \"\(key.stringValue)\""
        case .dataCorrupted(let context):
            return "\(path(context)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    private struct Extras: Decodable {
        var project: String?
        var now: FlexibleTimestamp?
        var latestRelease: String?
        var issue: Issue?

        enum CodingKeys: String, CodingKey {
            case project, now, issue
            case latestRelease = "latest_release"
        }
    }

    private struct Issue: Decodable {
        var state: IssueState?
        var timesSeen: Int?
        var firstSeen: FlexibleTimestamp?
        var assignee: AssigneeText?
        var counts: [String: [String: Int]]?

        enum CodingKeys: String, CodingKey {
            case state, assignee, counts
            case timesSeen = "times_seen"
            case firstSeen = "first_seen"
        }
    }

    /// `"alice@example.com"`, `"team:backend"`, `{"user": ...}` or `{"team": ...}`.
    private struct AssigneeText: Decodable {
        var value: Assignee?
        init(from decoder: any Decoder) throws {
            if let text = try? decoder.singleValueContainer().decode(String.self) {
                value = text.hasPrefix("team:") ? .team(String(text.dropFirst(5))) : .user(email: text)
                return
            }
            let container = try decoder.container(keyedBy: Keys.self)
            if let team = try container.decodeIfPresent(String.self, forKey: .team) {
                value = .team(team)
            } else {
                value = .user(email: try container.decode(String.self, forKey: .user))
            }
        }
        enum Keys: String, CodingKey { case user, team }
    }
}

extension IssueState: Decodable {}
