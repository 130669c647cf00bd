import Foundation
import HeraldChat
import HeraldConfig
import HeraldCore
import HeraldStore

/// The one path every surface takes to act on an issue: Slack and Mattermost buttons, the admin API and the
/// command line all come here, so each action is checked, recorded and shown in chat the same way.
public struct IssueActions: Sendable {
    public let store: Store
    public let config: Config
    /// Called after a change queued message updates, so delivery sends them at once.
    private let queued: @Sendable () -> Void

    public enum Refusal: Error, Equatable, CustomStringConvertible {
        case readOnly(String)
        case unknownAssignee(String)

        public var description: String {
            switch self {
            case .readOnly(let name): "\(name) is a stakeholder: stakeholders can see issues but not change them"
            case .unknownAssignee(let email):
                "\(email) is not a Herald user; issues can be assigned to the users in the config"
            }
        }
    }

    public init(store: Store, config: Config, queued: @escaping @Sendable () -> Void = {}) {
        self.store = store
        self.config = config
        self.queued = queued
    }

    /// Carries out `action` for `actor`. `user` is the Herald user behind the actor (nil for the admin
    /// token); a stakeholder is refused. `requestKey` names a callback so that a retried one counts once.
    public func perform(
        _ action: IssueAction, on issueID: Int64, actor: Actor, user: Config.User?, requestKey: String? = nil,
        now: Date = Date()
    ) async throws -> ActionOutcome {
        if let user, user.role == .stakeholder { throw Refusal.readOnly(user.name) }
        let change: IssueChange?
        switch action {
        case .resolve: change = .resolve(inNextRelease: false)
        case .resolveInNextRelease: change = .resolve(inNextRelease: true)
        case .unresolve: change = .unresolve
        case .ignore(.forever): change = .ignore(.forever)
        case .ignore(.duration(let seconds)): change = .ignore(.duration(TimeInterval(seconds)))
        case .ignore(.moreEvents(let count)): change = .ignore(.moreEvents(count))
        case .assign(let email):
            guard let assignee = config.user(email: email) else { throw Refusal.unknownAssignee(email) }
            change = .assign(.user(email: assignee.email))
        case .unassign: change = .assign(nil)
        case .acknowledge: change = nil
        }
        let summary = "\(Self.verb(action, config: config)) by \(actor.name) via \(actor.surface)"
        let outcome = try await store.act(
            on: issueID, change, action: action.description, summary: summary, actor: actor, requestKey: requestKey,
            now: now)
        if case .changed = outcome { queued() }
        return outcome
    }

    /// "Resolved", "Ignored for 30 minutes", "Assigned to Bob"…
    static func verb(_ action: IssueAction, config: Config) -> String {
        switch action {
        case .resolve: "Resolved"
        case .resolveInNextRelease: "Resolved in the next release"
        case .unresolve: "Unresolved"
        case .ignore(.forever): "Ignored forever"
        case .ignore(.moreEvents(let count)): "Ignored until \(count) more events"
        case .ignore(.duration(let seconds)):
            "Ignored for " + (IssueAction.ignoreMenu.first { $0.choice == .duration(seconds: seconds) }
                .map { String($0.label.dropFirst(4)) } ?? "\(seconds) seconds")
        case .assign(let email): "Assigned to \(config.user(email: email)?.name ?? email)"
        case .unassign: "Unassigned"
        case .acknowledge: "Acknowledged"
        }
    }
}
