import HeraldCore
import HeraldStore

/// What came of a click on a chat message, whatever the platform. Each platform's route renders it (Slack
/// as an ephemeral message through the response_url, Mattermost as the answer's `ephemeral_text`); the words
/// people read are here, once.
enum CallbackReply: Sendable {
    /// The issue changed; every message of it is being updated.
    case done(Issue, IssueActionRecord)
    /// The issue already stood that way.
    case unchanged(Issue)
    /// The same click was already carried out (a retried request).
    case duplicate(Issue)
    /// A stakeholder: may see, may not change.
    case readOnly
    /// The clicker is not a Herald user; `email` is what the platform reported, if anything.
    case unknownPerson(email: String?)
    /// The button names no issue Herald has.
    case unknownIssue
    /// An assignment to someone who is not a Herald user.
    case unknownAssignee(String)
    /// A button value Herald cannot read.
    case unknownButton
    /// A menu choice outside the menu the button's context signs.
    case unknownChoice
    /// The buttons' lifetime has passed since their post was last rendered.
    case expired(Issue?)
    /// The clicker is not a member of the channel the message is in.
    case notInChannel
    /// The platform could not say whether the clicker may act; nothing was done.
    case unverified(String)
    /// Something went wrong on Herald's side.
    case failed(String)

    /// Who is answered, and on which platform: what the texts need.
    struct Audience: Sendable {
        /// "Slack", "Mattermost".
        var platform: String
        /// How the platform could link the person to a Herald user besides the email, if it can.
        var linkHint: String?
        /// Why the platform may hide the email.
        var hiddenEmailReason: String?
    }

    /// What the person is told; nil when the updated messages say it all.
    func text(for audience: Audience, confirmChanges: Bool) -> String? {
        switch self {
        case .done(let issue, let record): confirmChanges ? "\(issue.shortID): \(record.summary)." : nil
        case .unchanged(let issue): "\(issue.shortID) is already \(issue.stateDescription); nothing changed."
        case .duplicate(let issue): confirmChanges ? "\(issue.shortID): already done." : nil
        case .readOnly: "You are a stakeholder in Herald: you can follow issues, but not change them."
        case .unknownPerson(let email):
            "Herald does not know you yet: "
                + (email.map { "\(audience.platform) gives your email as \($0)" }
                    ?? "\(audience.platform) does not show Herald your email"
                    + (audience.hiddenEmailReason.map { " (\($0))" } ?? ""))
                + ". Ask a Herald admin to add you to `users` in herald.yaml"
                + (audience.linkHint.map { ", or \($0)." } ?? ".")
        case .unknownIssue: "That issue is not in Herald (buttons on `herald notify-test` messages name no real issue)."
        case .unknownAssignee(let text): text
        case .unknownButton: "Herald does not know that button. It may come from an older version of Herald."
        case .unknownChoice: "Herald does not know that choice."
        case .expired(let issue):
            "These buttons have expired; they renew whenever the issue changes. Use "
                + (issue.map { "`/herald status \($0.shortID)`" } ?? "`/herald status`") + " to see where it stands."
        case .notInChannel: "Only members of this channel can act on its alerts."
        case .unverified(let reason): "Herald could not check that you may do that, so it did nothing: \(reason)"
        case .failed(let reason): "Herald could not do that: \(reason)"
        }
    }
}
