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
/// Mattermost does not sign action requests, so a click is checked in depth before it acts:
/// 1. when the connector lists `action_sources`, the request must come from one of them;
/// 2. the button's context must carry Herald's signature over the issue, the action (a menu's family), the
///    connector and the rendering's stamp (expiry and nonce); Mattermost never shows a context to clients;
/// 3. the stamp must not have expired;
/// 4. the post the click names must be one Herald posted for that issue on that connector;
/// 5. a menu's choice (sent beside the context, unsigned) must be one the menu offers;
/// 6. the acting user, whom only the request body names, must be a member of that post's channel, asked of
///    Mattermost with the bot token;
/// 7. they must map, by the email Mattermost gives, to a Herald user allowed to act.
/// A click counts once per rendering of the buttons, whatever the request's `trigger_id` says: the nonce
/// and the action name the request. A context that does not verify is refused with 401; the other refusals
/// answer 200 with an `ephemeral_text` the clicker sees. None changes anything. The answer's `update`
/// rewrites the clicked post at once; the issue's other posts are updated through the REST API by delivery.
struct MattermostRoutes: ChatCallbackRoutes {
    let callbacks: CallbackHandler
    let courier: Courier
    let store: Store

    func register(on router: Router<HeraldRequestContext>) {
        post(["/mattermost/actions": action, "/mattermost/commands": command], on: router)
    }

    private func platform(_ connector: Config.MattermostConnector) -> MattermostPlatform? {
        courier.platforms.platform(kind: .mattermost, target: connector.name) as? MattermostPlatform
    }

    /// `POST /mattermost/commands`: `/herald alert | status | help`. The command's token (`Authorization:
    /// Token …`) must be a connector's `command_token`; it names the connector the user is looked up on.
    private func command(_ request: Request, _: HeraldRequestContext) async throws -> Response {
        let header = request.headers[.authorization] ?? ""
        let token = header.hasPrefix("Token ") ? String(header.dropFirst(6)) : ""
        guard !token.isEmpty, let connector = config.mattermost.first(where: { connector in
            connector.commandToken.map { ConstantTime.equal($0.value, token) } ?? false
        }), let platform = platform(connector) else {
            throw APIError(.unauthorized, "send a Mattermost command token Herald knows as 'Authorization: Token <token>'",
                           reason: "unauthorized")
        }
        let body = try await request.readBody(upTo: 1 << 20, within: config.server.bodyTimeout)
        let command = SlashCommandRequest(form: FormBody.parse(Array(buffer: body)))
        let email = try? await platform.client.email(ofUser: command.userID)
        let requester = ChatAlertDesk.Requester(
            user: email.flatMap { $0 }.flatMap(config.user(email:)),
            label: command.userName.isEmpty ? command.userID : command.userName,
            surface: "Mattermost", channelID: command.channelID, channelName: command.channelName)
        return try JSONResponse(["response_type": "ephemeral", "text": await desk.answer(command.command, from: requester)])
    }

    private func action(_ request: Request, _ requestContext: HeraldRequestContext) async throws -> Response {
        let body = try await request.readBody(upTo: 1 << 20, within: config.server.bodyTimeout)
        guard let click = MattermostAction(body: Array(buffer: body)) else {
            throw APIError.badRequest("expected Mattermost's JSON with a 'context'", field: "context")
        }
        let context = click.context
        guard let connector = config.mattermostConnector(named: context.connector), let platform = platform(connector)
        else {
            logger.warning("refused a Mattermost action for a connector Herald does not have")
            throw APIError(.unauthorized, "the button's context is not one Herald signed", reason: "unauthorized")
        }
        if !connector.actionSources.isEmpty {
            let source = requestContext.remoteAddress ?? ""
            guard connector.actionSources.contains(where: { $0.contains(source) }) else {
                logger.warning("refused a Mattermost action from outside the connector's action_sources",
                               metadata: ["connector": "\(connector.name)", "source": "\(source)"])
                throw APIError(.forbidden, "this address may not send Mattermost actions for '\(connector.name)'",
                               reason: "forbidden")
            }
        }
        guard platform.signer.verify(
            issue: context.issueID, family: context.action, connector: context.connector, stamp: context.stamp,
            signature: context.signature)
        else {
            logger.warning("refused a Mattermost action with a context Herald did not sign",
                           metadata: ["connector": "\(connector.name)"])
            throw APIError(.unauthorized, "the button's context is not one Herald signed", reason: "unauthorized")
        }
        let (reply, post) = await check(click, on: platform)
        let text = reply.text(for: CallbackReply.Audience(platform: "Mattermost"), confirmChanges: true) ?? ""
        var answer: [String: any Sendable] = ["ephemeral_text": text]
        if case .done(_, let record) = reply, let post {
            answer["update"] = try await update(post, on: platform, summary: record.summary)
        }
        return try JSONResponse(answer)
    }

    /// Steps 3 to 7 for a click whose context verified: what came of it, and the post to rewrite.
    private func check(_ click: MattermostAction, on platform: MattermostPlatform) async -> (CallbackReply, String?) {
        let context = click.context
        let issue = try? await store.issue(String(context.issueID))
        guard context.stamp.expires > Int64(Int(saturating: Date().timeIntervalSince1970)) else {
            return (.expired(issue), nil)
        }
        guard let postID = click.postID,
            let handle = try? await store.messageHandle(ref: postID, kind: .mattermost, target: platform.target),
            handle.issueID == context.issueID
        else {
            logger.warning("refused a Mattermost action naming a post Herald did not make for its issue",
                           metadata: ["connector": "\(platform.target)", "issue": "\(context.issueID)"])
            return (.unknownButton, nil)
        }
        let action: IssueAction
        if let choice = context.selectedOption {
            guard let chosen = IssueAction(choice), chosen.family == context.action,
                await offers(chosen, post: postID, on: platform)
            else { return (.unknownChoice, nil) }
            action = chosen
        } else {
            guard let button = IssueAction(context.action), button.family == context.action else {
                return (.unknownButton, nil)
            }
            action = button
        }
        let user = click.userID ?? ""
        do {
            guard try await platform.client.isMember(user: user, ofChannel: handle.channelID) else {
                logger.warning("refused a Mattermost action by a user outside the post's channel",
                               metadata: ["connector": "\(platform.target)", "user": "\(user)"])
                return (.notInChannel, nil)
            }
        } catch {
            return (.unverified("Mattermost did not answer whether you are in this channel (\(error))."), nil)
        }
        let email: String?
        do {
            email = try await platform.client.email(ofUser: user)
        } catch {
            email = nil
        }
        let reply = await callbacks.handle(
            action, on: context.issueID, user: email.flatMap(config.user(email:)), email: email, surface: "Mattermost",
            requestKey: "mattermost:\(platform.target):\(context.stamp.nonce):\(action)")
        return (reply, postID)
    }

    /// Whether the menu on the post, as it renders now, offers `choice`.
    private func offers(_ choice: IssueAction, post: String, on platform: MattermostPlatform) async -> Bool {
        guard let alert = try? await store.alert(postedAs: post, kind: .mattermost, target: platform.target) else {
            return false
        }
        return MattermostMessage.menus(courier.alert(for: alert)).contains { $0.family == choice.family && $0.offers(choice) }
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
