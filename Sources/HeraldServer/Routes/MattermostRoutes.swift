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

/// `POST /mattermost/actions` (clicks on the buttons and menus of Herald's posts) and
/// `POST /mattermost/commands` (`/herald`).
///
/// Mattermost does not sign action requests; the button's context does the work: it carries the issue, the
/// action and the connector, signed with Herald's own key, and Mattermost never shows a context to clients.
/// A context that does not verify is refused with 401 and changes nothing. The clicker is mapped to a Herald
/// user by the email `GET /api/v4/users/<id>` gives. The answer's `ephemeral_text` tells the clicker what
/// happened, and its `update` rewrites the clicked post at once; the issue's other posts are updated through
/// the REST API by delivery.
struct MattermostRoutes: ChatCallbackRoutes {
    let callbacks: CallbackHandler
    let courier: Courier
    let store: Store
    let signer: ButtonSigner

    func register(on router: Router<BasicRequestContext>) {
        post(["/mattermost/actions": action, "/mattermost/commands": command], on: router)
    }

    private func platform(_ connector: Config.MattermostConnector) -> MattermostPlatform? {
        courier.platforms.platform(kind: .mattermost, target: connector.name) as? MattermostPlatform
    }

    /// `POST /mattermost/commands`: `/herald alert | status | help`. The command's token (`Authorization:
    /// Token …`) must be a connector's `command_token`; it names the connector the user is looked up on.
    private func command(_ request: Request) async throws -> Response {
        let header = request.headers[.authorization] ?? ""
        let token = header.hasPrefix("Token ") ? String(header.dropFirst(6)) : ""
        guard !token.isEmpty, let connector = config.mattermost.first(where: { connector in
            connector.commandToken.map { ConstantTime.equal($0.value, token) } ?? false
        }), let platform = platform(connector) else {
            throw APIError(.unauthorized, "send a Mattermost command token Herald knows as 'Authorization: Token <token>'",
                           reason: "unauthorized")
        }
        let command = SlashCommandRequest(form: FormBody.parse(Array(buffer: try await request.body.collect(upTo: 1 << 20))))
        let email = try? await platform.client.email(ofUser: command.userID)
        let requester = ChatAlertDesk.Requester(
            user: email.flatMap { $0 }.flatMap(config.user(email:)),
            label: command.userName.isEmpty ? command.userID : command.userName,
            surface: "Mattermost", channelID: command.channelID, channelName: command.channelName)
        return try JSONResponse(["response_type": "ephemeral", "text": await desk.answer(command.command, from: requester)])
    }

    private func action(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: 1 << 20)
        guard let click = MattermostAction(body: Array(buffer: body)) else {
            throw APIError.badRequest("expected Mattermost's JSON with a 'context'", field: "context")
        }
        let context = click.context
        let family = IssueAction(context.action)?.family ?? context.action
        guard let connector = config.mattermostConnector(named: context.connector), let platform = platform(connector),
            signer.verify(issue: context.issueID, family: family, connector: context.connector,
                          signature: context.signature)
        else {
            logger.warning("refused a Mattermost action with a context Herald did not sign")
            throw APIError(.unauthorized, "the button's context is not one Herald signed", reason: "unauthorized")
        }
        // A menu sends its choice beside the context; it must be of the family the context signs.
        let reply: CallbackReply
        if let action = IssueAction(context.selectedOption ?? context.action), action.family == family {
            let email: String?
            do {
                email = try await platform.client.email(ofUser: click.userID ?? "")
            } catch {
                email = nil
            }
            reply = await callbacks.handle(
                action, on: context.issueID, user: email.flatMap(config.user(email:)), email: email,
                surface: "Mattermost", requestKey: click.triggerID.map { "mattermost:\(context.connector):\($0)" })
        } else {
            reply = .unknownChoice
        }
        let text = reply.text(for: CallbackReply.Audience(platform: "Mattermost"), confirmChanges: true) ?? ""
        var answer: [String: any Sendable] = ["ephemeral_text": text]
        if case .done(_, let record) = reply, let post = click.postID {
            answer["update"] = try await update(post, on: platform, summary: record.summary)
        }
        return try JSONResponse(answer)
    }

    /// An `update` of the clicked post, rendered as delivery renders its updates.
    private func update(_ post: String, on platform: MattermostPlatform, summary: String) async throws
        -> [String: any Sendable]?
    {
        guard var alert = try? await store.alert(postedAs: post, kind: .mattermost, target: platform.target) else {
            return nil
        }
        alert.purpose = .update
        alert.note = summary
        let message = platform.message(courier.alert(for: alert))
        return ["message": "", "props": ["attachments": [message.attachment]] as [String: any Sendable]]
    }
}
