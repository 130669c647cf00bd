import Foundation
import HeraldChat
import HeraldConfig
import HeraldCore
import HeraldDelivery
import HeraldHTTP
import HeraldStore
import Hummingbird
import Logging
import NIOCore

/// `POST /mattermost/actions`: clicks on the buttons and menus of Herald's Mattermost posts.
///
/// Mattermost does not sign these requests; the button's context does the work: it carries the issue, the
/// action and the connector, signed with Herald's own key, and Mattermost never shows a context to clients.
/// A context that does not verify is refused with 401 and changes nothing. The clicker is mapped to a Herald
/// user by the email `GET /api/v4/users/<id>` gives. The answer's `ephemeral_text` tells the clicker what
/// happened, and its `update` rewrites the clicked post at once; the issue's other posts are updated through
/// the REST API by delivery.
struct MattermostRoutes {
    let config: Config
    let actions: IssueActions
    let desk: ChatAlertDesk
    let courier: Courier
    let http: HTTPClient
    let signer: ButtonSigner
    let logger: Logger

    func register(on router: Router<BasicRequestContext>) {
        router.post("/mattermost/actions") { request, _ in
            try await action(request)
        }
        router.post("/mattermost/commands") { request, _ in
            try await command(request)
        }
    }

    /// `POST /mattermost/commands`: `/herald alert | status | help`. The command's token (`Authorization:
    /// Token …`) must be a connector's `command_token`; it names the connector the user is looked up on.
    private func command(_ request: Request) async throws -> Response {
        let header = request.headers[.authorization] ?? ""
        let token = header.hasPrefix("Token ") ? String(header.dropFirst(6)) : ""
        guard !token.isEmpty, let connector = config.mattermost.first(where: { connector in
            connector.commandToken.map { ConstantTime.equal($0.value, token) } ?? false
        }) else {
            throw APIError(.unauthorized, "send a Mattermost command token Herald knows as 'Authorization: Token <token>'",
                           reason: "unauthorized")
        }
        let fields = FormBody.parse(Array(buffer: try await request.body.collect(upTo: 1 << 20)))
        let userID = fields["user_id"] ?? ""
        let email = try? await MattermostClient(connector: connector, http: http).email(ofUser: userID)
        let requester = ChatAlertDesk.Requester(
            user: email.flatMap { $0 }.flatMap(config.user(email:)), label: fields["user_name"] ?? userID,
            surface: "Mattermost", channelID: fields["channel_id"] ?? "", channelName: fields["channel_name"] ?? "")
        let text: String
        switch ChatCommand(text: fields["text"] ?? "") {
        case .alert(let project, let title): text = await desk.raise(project: project, title: title, by: requester)
        case .status(let reference): text = await desk.status(reference)
        case .help, .form: text = ChatCommand.usage
        case .invalid(let problem): text = problem + "\n" + ChatCommand.usage
        }
        return try JSONResponse(["response_type": "ephemeral", "text": text])
    }

    private func action(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: 1 << 20)
        guard let json = (try? JSONSerialization.jsonObject(with: Data(buffer: body))) as? [String: Any],
            let context = json["context"] as? [String: Any]
        else {
            throw APIError.badRequest("expected Mattermost's JSON with a 'context'", field: "context")
        }
        let issueID = (context["issue_id"] as? NSNumber)?.int64Value ?? Int64(context["issue_id"] as? String ?? "") ?? 0
        let actionText = context["action"] as? String ?? ""
        let connectorName = context["connector"] as? String ?? ""
        let family = IssueAction(actionText)?.family ?? actionText
        guard let connector = config.mattermostConnector(named: connectorName),
            signer.verify(issue: issueID, family: family, connector: connectorName,
                          signature: context["signature"] as? String ?? "")
        else {
            logger.warning("refused a Mattermost action with a context Herald did not sign")
            throw APIError(.unauthorized, "the button's context is not one Herald signed", reason: "unauthorized")
        }
        // A menu sends its choice beside the context; it must be of the family the context signs.
        let chosen = context["selected_option"] as? String
        guard let action = IssueAction(chosen ?? actionText),
            action.family == family
        else {
            return try ephemeral("Herald does not know that choice.")
        }
        let userID = json["user_id"] as? String ?? ""
        let client = MattermostClient(connector: connector, http: http)
        let email: String?
        do {
            email = try await client.email(ofUser: userID)
        } catch {
            email = nil
        }
        guard let user = email.flatMap(config.user(email:)) else {
            let shown = email.map { "Mattermost gives your email as \($0)" } ?? "Mattermost does not show Herald your email"
            return try ephemeral("Herald does not know you yet: \(shown). Ask a Herald admin to add you to `users` in herald.yaml.")
        }
        let actor = Actor(email: user.email, name: user.name, surface: "Mattermost")
        let key = (json["trigger_id"] as? String).map { "mattermost:\(connectorName):\($0)" }
        do {
            switch try await actions.perform(action, on: issueID, actor: actor, user: user, requestKey: key) {
            case .changed(let issue, let record):
                return try await answer(
                    "\(issue.shortID): \(record.summary).", post: json["post_id"] as? String, connector: connectorName,
                    summary: record.summary)
            case .unchanged(let issue): return try ephemeral("\(issue.shortID) is already \(issue.stateDescription); nothing changed.")
            case .duplicate(let issue): return try ephemeral("\(issue.shortID): already done.")
            }
        } catch let refusal as IssueActions.Refusal {
            switch refusal {
            case .readOnly: return try ephemeral("You are a stakeholder in Herald: you can follow issues, but not change them.")
            case .unknownAssignee: return try ephemeral(refusal.description)
            }
        } catch StoreError.unknownIssue {
            return try ephemeral("That issue is not in Herald (buttons on `herald notify-test` posts name no real issue).")
        }
    }

    private func ephemeral(_ text: String) throws -> Response {
        try JSONResponse(["ephemeral_text": text])
    }

    /// The ephemeral text and an `update` of the clicked post, rendered as delivery renders its updates.
    private func answer(_ text: String, post: String?, connector: String, summary: String) async throws -> Response {
        guard let post, var alert = try? await actions.store.alert(postedAs: post, kind: "mattermost", target: connector)
        else { return try ephemeral(text) }
        alert.purpose = "update"
        alert.note = summary
        let message = MattermostMessage.alert(
            courier.alert(for: alert), actionsURL: courier.mattermostActionsURL, signer: signer, connector: connector)
        let update: [String: any Sendable] = [
            "message": "", "props": ["attachments": [message.attachment]] as [String: any Sendable],
        ]
        return try JSONResponse(["ephemeral_text": text, "update": update])
    }
}
