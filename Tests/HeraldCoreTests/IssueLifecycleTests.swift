import Foundation
import HeraldCore
import Testing

/// Every transition of an issue, as a table, without a database.
@Suite struct IssueLifecycleTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let day: TimeInterval = 86_400

    static func issue(
        _ status: IssueStatus, _ substatus: IssueSubstatus = .ongoing, timesSeen: Int = 5, firstSeen: Date = now - 30 * day,
        lastRelease: String? = "1.0", ignore: IgnoreCondition? = nil, resolution: Resolution? = nil,
        regressedAt: Date? = nil
    ) -> HeraldCore.Issue {
        HeraldCore.Issue(
            id: 1, projectID: 1, number: 1, shortID: "PAYMENTS-1", fingerprint: "f", title: "t", culprit: nil,
            level: .error, status: status, substatus: substatus, firstSeen: firstSeen, lastSeen: firstSeen,
            timesSeen: timesSeen, usersSeen: 0, lastRelease: lastRelease, ignore: ignore, resolution: resolution,
            regressedAt: regressedAt)
    }

    struct Arrival: Sendable, CustomTestStringConvertible {
        var name: String
        var before: HeraldCore.Issue
        var release: String?
        var state: IssueState?
        var status: IssueStatus
        var substatus: IssueSubstatus
        var testDescription: String { name }
    }

    static let arrivals: [Arrival] = [
        Arrival(name: "ongoing stays ongoing", before: issue(.unresolved), release: nil, state: .ongoing,
                status: .unresolved, substatus: .ongoing),
        Arrival(name: "new within a week stays new", before: issue(.unresolved, .new, firstSeen: now - day),
                release: nil, state: .ongoing, status: .unresolved, substatus: .new),
        Arrival(name: "new turns ongoing after a week", before: issue(.unresolved, .new, firstSeen: now - 8 * day),
                release: nil, state: .ongoing, status: .unresolved, substatus: .ongoing),
        Arrival(name: "resolved regresses", before: issue(.resolved, resolution: Resolution(at: now - day)),
                release: nil, state: .regression, status: .unresolved, substatus: .regressed),
        Arrival(name: "resolved in next release: same release stays quiet",
                before: issue(.resolved, resolution: Resolution(at: now - day, inNextReleaseAfter: "1.0")),
                release: "1.0", state: nil, status: .resolved, substatus: .ongoing),
        Arrival(name: "resolved in next release: no release stays quiet",
                before: issue(.resolved, resolution: Resolution(at: now - day, inNextReleaseAfter: "1.0")),
                release: nil, state: nil, status: .resolved, substatus: .ongoing),
        Arrival(name: "resolved in next release: a new release regresses",
                before: issue(.resolved, resolution: Resolution(at: now - day, inNextReleaseAfter: "1.0")),
                release: "1.1", state: .regression, status: .unresolved, substatus: .regressed),
        Arrival(name: "regressed a week ago turns ongoing",
                before: issue(.unresolved, .regressed, regressedAt: now - 8 * day), release: nil, state: .ongoing,
                status: .unresolved, substatus: .ongoing),
        Arrival(name: "ignored forever stays quiet", before: issue(.ignored, ignore: .forever), release: nil, state: nil,
                status: .ignored, substatus: .ongoing),
        Arrival(name: "ignored for a time that has not passed stays quiet",
                before: issue(.ignored, ignore: .until(now + 60)), release: nil, state: nil, status: .ignored,
                substatus: .ongoing),
        Arrival(name: "ignored for a time that has passed reappears",
                before: issue(.ignored, ignore: .until(now - 60)), release: nil, state: .reappeared,
                status: .unresolved, substatus: .ongoing),
        Arrival(name: "ignored until 3 more events: the second is quiet",
                before: issue(.ignored, timesSeen: 6, ignore: .untilMoreEvents(count: 3, baseline: 5)), release: nil,
                state: nil, status: .ignored, substatus: .ongoing),
        Arrival(name: "ignored until 3 more events: the third reappears",
                before: issue(.ignored, timesSeen: 7, ignore: .untilMoreEvents(count: 3, baseline: 5)), release: nil,
                state: .reappeared, status: .unresolved, substatus: .ongoing),
        Arrival(name: "an ignore that lapsed by time fires reappeared with the next event",
                before: issue(.unresolved, .reappeared), release: nil, state: .reappeared, status: .unresolved,
                substatus: .ongoing),
    ]

    @Test(arguments: arrivals)
    func anEventArrives(_ row: Arrival) {
        let (after, state) = IssueLifecycle.eventArrived(at: row.before, level: .fatal, release: row.release, now: Self.now)
        #expect(state == row.state)
        #expect(after.status == row.status)
        #expect(after.substatus == row.substatus)
        #expect(after.timesSeen == row.before.timesSeen + 1)
        #expect(after.lastSeen == Self.now)
        #expect(after.level == .fatal)
        #expect(after.lastRelease == (row.release ?? row.before.lastRelease))
        if state == .regression { #expect(after.regressedAt == Self.now && after.resolution == nil) }
        if after.status == .unresolved { #expect(after.ignore == nil) }
    }

    @Test func anEventOpensANewIssue() {
        var event = Event(eventID: "e", timestamp: Self.now, level: .warning, message: "boom")
        event.release = "2.0"
        let issue = IssueLifecycle.opened(
            by: event, id: 9, projectID: 3, number: 12, projectSlug: "payments", fingerprint: "fp", now: Self.now)
        #expect(issue.shortID == "PAYMENTS-12")
        #expect(issue.status == .unresolved && issue.substatus == .new)
        #expect(issue.timesSeen == 1 && issue.firstSeen == Self.now && issue.lastRelease == "2.0")
    }

    struct Change: Sendable, CustomTestStringConvertible {
        var name: String
        var before: HeraldCore.Issue
        var change: IssueChange
        var state: String
        var recorded: Bool
        var testDescription: String { name }
    }

    static let changes: [Change] = [
        Change(name: "resolve", before: issue(.unresolved), change: .resolve(inNextRelease: false), state: "resolved",
               recorded: true),
        Change(name: "resolve twice", before: issue(.resolved, resolution: Resolution(at: now)),
               change: .resolve(inNextRelease: false), state: "resolved", recorded: false),
        Change(name: "resolve in the next release", before: issue(.unresolved), change: .resolve(inNextRelease: true),
               state: "resolved in the next release after 1.0", recorded: true),
        Change(name: "unresolve an ignored issue", before: issue(.ignored, ignore: .forever), change: .unresolve,
               state: "unresolved", recorded: true),
        Change(name: "unresolve an unresolved issue", before: issue(.unresolved), change: .unresolve,
               state: "unresolved", recorded: false),
        Change(name: "ignore forever", before: issue(.unresolved), change: .ignore(.forever), state: "ignored forever",
               recorded: true),
        Change(name: "ignore for 30 minutes", before: issue(.unresolved), change: .ignore(.duration(1_800)),
               state: "ignored until \(Timestamp.text(now + 1_800))", recorded: true),
        Change(name: "ignore again for a new span", before: issue(.ignored, ignore: .until(now + 1_800)),
               change: .ignore(.duration(1_800)), state: "ignored until \(Timestamp.text(now + 1_800))",
               recorded: true),
        Change(name: "ignore until 10 more events", before: issue(.unresolved), change: .ignore(.moreEvents(10)),
               state: "ignored until 10 more events after 5", recorded: true),
        Change(name: "assign", before: issue(.unresolved), change: .assign(.user(email: "bob@example.com")),
               state: "unresolved; assigned to bob@example.com", recorded: true),
        Change(name: "unassign nobody", before: issue(.unresolved), change: .assign(nil), state: "unresolved",
               recorded: false),
    ]

    @Test(arguments: changes)
    func aPersonActs(_ row: Change) {
        let after = IssueLifecycle.applying(row.change, to: row.before, now: Self.now)
        #expect(after.stateDescription == row.state)
        #expect(IssueLifecycle.isChange(row.change, from: row.before, to: after) == row.recorded)
    }

    @Test func aTimedIgnoreLapsesOnlyOnceItsTimeHasPassed() {
        let ignored = Self.issue(.ignored, ignore: .until(Self.now))
        #expect(IssueLifecycle.ignoreLapsed(ignored, now: Self.now - 1) == nil)
        let lapsed = IssueLifecycle.ignoreLapsed(ignored, now: Self.now)
        #expect(lapsed?.status == .unresolved && lapsed?.substatus == .reappeared && lapsed?.ignore == nil)
        #expect(IssueLifecycle.ignoreLapsed(Self.issue(.ignored, ignore: .forever), now: Self.now) == nil)
        #expect(IssueLifecycle.ignoreLapsed(
            Self.issue(.ignored, ignore: .untilMoreEvents(count: 1, baseline: 0)), now: Self.now) == nil)
    }

    @Test(arguments: [
        (IssueAction.resolve, nil as String?, "Resolved"),
        (.ignore(.duration(seconds: 1_800)), nil, "Ignored for 30 minutes"),
        (.ignore(.duration(seconds: 90)), nil, "Ignored for 1 min 30 s"),
        (.ignore(.moreEvents(10)), nil, "Ignored until 10 more events"),
        (.assign(email: "bob@example.com"), "Bob", "Assigned to Bob"),
        (.assign(email: "bob@example.com"), nil, "Assigned to bob@example.com"),
        (.acknowledge, nil, "Acknowledged"),
    ])
    func actionsSayWhatTheyDid(_ action: IssueAction, _ name: String?, _ verb: String) {
        #expect(action.verb(assigneeName: name) == verb)
    }
}
