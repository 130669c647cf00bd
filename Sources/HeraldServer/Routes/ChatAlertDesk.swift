import Foundation
import HeraldChat
import HeraldConfig
import HeraldConsole
import HeraldCore
import HeraldStore

/// Alerts raised from chat (`/herald alert`), and issue status for `/herald status`, the same for Slack and
/// Mattermost.
///
/// Who may raise an alert: a linked Herald user (admin or member) for every project; anyone else only in a
/// channel the project lists under `chat_alerts.allowed_channels`, and only if it sets
/// `allow_unlinked_users`. A raised alert is an event like any other: it is grouped, stored and run through
/// the project's rules, which decide where it goes.
struct ChatAlertDesk: Sendable {
    let config: Config
    let pipeline: IngestPipeline
    let store: Store

    /// Who asks, and from where.
    struct Requester: Sendable {
        var user: Config.User?
        /// How to name someone Herald does not know: their chat name or email.
        var label: String
        var surface: String
        var channelID: String
        var channelName: String
    }

    /// Why an alert may not be raised; nil when it may.
    func refusal(project slug: String, for requester: Requester) -> String? {
        guard let project = config.project(slug: slug) else {
            return "There is no project `\(slug.prefix(40))`. Projects: \(config.projects.map(\.slug).joined(separator: ", "))."
        }
        if let user = requester.user, user.role != .stakeholder { return nil }
        let channel = "#" + requester.channelName
        let alerts = project.chatAlerts
        guard alerts.allowUnlinkedUsers, !alerts.allowedChannels.isEmpty else {
            return "Project \(project.slug) takes alerts from chat only from Herald users who may change issues. "
                + "Ask a Herald admin to add you to `users` in herald.yaml."
        }
        guard alerts.allows(channelID: requester.channelID, channelName: requester.channelName) else {
            return "No project allows alerts from \(channel) by people Herald does not know: \(project.slug) takes "
                + "them only in \(alerts.allowedChannels.joined(separator: ", "))."
        }
        return nil
    }

    /// Raises the alert, or says why not. The answer is what the person sees.
    func raise(project slug: String, title: String, description: String? = nil, level: Level = .error,
               by requester: Requester) async -> String
    {
        if let refusal = refusal(project: slug, for: requester) { return refusal }
        guard let project = config.project(slug: slug) else { return "There is no project `\(slug.prefix(40))`." }
        let who = requester.user?.name ?? requester.label
        let message = description.map { title + "\n\n" + $0 } ?? title
        var event = Event(
            eventID: UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased(), timestamp: Date(),
            level: level, message: message,
            tags: [Event.Tag("source", "chat"), Event.Tag("chat", requester.surface), Event.Tag("raised_by", who),
                   Event.Tag("chat_channel", "#" + requester.channelName)])
        event.fingerprint = ["chat-alert", title.lowercased()]
        let incoming = IncomingEvent(
            projectID: project.id, projectSlug: project.slug, event: event, grouping: Grouping(event: event),
            payload: event.sentryPayload())
        do {
            let outcome = try await pipeline.submit([incoming]).first
            if case .rateLimited(_, _, let wait) = outcome {
                return "\(project.slug) has opened as many new issues as its limit allows for now; "
                    + "try again in \(Int(min(3_600, wait.rounded(.up)))) seconds."
            }
            guard case .stored(let result) = outcome else {
                return "Herald could not store the alert; try again."
            }
            let sent = result.deliveries == 0
                ? "No rule of \(project.slug) sends it anywhere yet."
                : "The rules of \(project.slug) send it on (\(result.deliveries) \(result.deliveries == 1 ? "message" : "messages"))."
            return "Raised \(result.shortID): \(title). \(sent)"
        } catch {
            return "Herald is shutting down and could not take the alert; try again in a moment."
        }
    }

    /// The answer to a `/herald` command, the same on every platform. A form is answered with the usage where
    /// the platform has none.
    func answer(_ command: ChatCommand, from requester: Requester) async -> String {
        switch command {
        case .alert(let project, let title): await raise(project: project, title: title, by: requester)
        case .status(let reference): await status(reference, for: requester)
        case .login: await signInLink(for: requester)
        case .help, .form: ChatCommand.usage
        case .invalid(let problem): problem + "\n" + ChatCommand.usage
        }
    }

    /// `/herald login`: a one-time link to the web console, answered only to the person who asked (every
    /// `/herald` answer is ephemeral). Only people Herald knows get one.
    func signInLink(for requester: Requester) async -> String {
        guard let user = requester.user else {
            return "Herald does not know you (\(requester.label.prefix(100))), so it cannot sign you in. "
                + "Ask a Herald admin to add your email to `users` in herald.yaml."
        }
        do {
            let link = try await SignInLinks(store: store, config: config).issue(email: user.email, via: requester.surface)
            let minutes = Int(config.console.signInLinkLifetime / 60)
            return "Your sign-in link for the Herald console, good once within \(minutes) minutes; do not share it:\n\(link)"
        } catch {
            return "Herald could not make a sign-in link: \(error)"
        }
    }

    /// Whether the requester may see a project's issues from chat: a Herald user may (stakeholders follow
    /// issues too); anyone else only where the project takes alerts from people Herald does not know.
    func maySee(project: Config.Project, _ requester: Requester) -> Bool {
        if requester.user != nil { return true }
        let alerts = project.chatAlerts
        return alerts.allowUnlinkedUsers
            && alerts.allows(channelID: requester.channelID, channelName: requester.channelName)
    }

    /// `/herald status <short id>`, for those who may see the issue's project; to anyone else an issue they
    /// may not see reads as one that does not exist.
    func status(_ reference: String, for requester: Requester) async -> String {
        guard let issue = try? await store.issue(reference),
            let project = config.project(id: issue.projectID), maySee(project: project, requester)
        else { return "There is no issue `\(reference.prefix(40))` that you may see here." }
        var text = "\(issue.level.emoji) *\(issue.shortID)* \(issue.title) — \(issue.stateDescription)"
        text += "\nEvents: \(issue.timesSeen) · Users: \(issue.usersSeen) · Last seen: \(Timestamp.text(issue.lastSeen))"
        text += "\n\(config.server.publicURL)/issues/\(issue.id)"
        return text
    }
}
