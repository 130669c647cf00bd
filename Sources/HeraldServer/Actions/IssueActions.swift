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
        // An assignment names a user of the config, as the config spells the email.
        var change = action.change
        var assigneeName: String?
        if case .assign(let email) = action {
            guard let assignee = config.user(email: email) else { throw Refusal.unknownAssignee(email) }
            change = IssueAction.assign(email: assignee.email).change
            assigneeName = assignee.name
        }
        let summary = "\(action.verb(assigneeName: assigneeName)) by \(actor.name) via \(actor.surface)"
        let outcome = try await store.act(
            on: issueID, change, action: action.description, summary: summary, actor: actor, requestKey: requestKey,
            now: now)
        if case .changed = outcome { queued() }
        return outcome
    }
}
