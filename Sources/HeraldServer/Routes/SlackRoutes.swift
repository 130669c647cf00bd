import Foundation
import HeraldChat
import HeraldConfig
import HeraldCore
import HeraldHTTP
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// `POST /slack/interactions` (button clicks, menu choices, the alert form's submission) and
/// `POST /slack/commands` (`/herald`).
///
/// Every request is verified over its raw body with the app's signing secret (401 otherwise) and must come from
/// a configured workspace (403 otherwise); nothing changes in either case. Slack wants an answer within three
/// seconds, so a click is answered at once and carried out after, as deferred work; what the clicker needs to
/// know goes back as an ephemeral message through the interaction's response_url.
struct SlackRoutes: ChatCallbackRoutes {
    let callbacks: CallbackHandler
    let http: HTTPClient
    let directory: SlackDirectory
    let deferred: DeferredWork
    let replays: SlackReplayGuard

    func register(on router: Router<HeraldRequestContext>) {
        post(["/slack/interactions": interaction, "/slack/commands": command], on: router)
    }

    /// The raw body, once its signature is checked; nil for a signed request already taken (a replay).
    private func verifiedBody(_ request: Request) async throws -> [UInt8]? {
        let body = Array(buffer: try await request.readBody(upTo: 1 << 20, within: config.server.bodyTimeout))
        guard let secret = config.slack?.signingSecret else {
            throw APIError(.unauthorized, "slack.signing_secret is not configured, so Slack requests cannot be verified",
                           reason: "unauthorized")
        }
        let timestamp = request.headers[Self.timestampHeader]
        let verdict = SlackSignature(secret: secret.value).verify(
            timestamp: timestamp, signature: request.headers[Self.signatureHeader], body: body)
        guard verdict == .valid, let timestamp else {
            logger.warning("refused a Slack request", metadata: ["reason": "\(verdict)"])
            throw APIError(.unauthorized, "bad Slack signature: \(verdict)", reason: "unauthorized")
        }
        guard replays.isFirst(timestamp: timestamp, body: body) else {
            logger.warning("ignored a Slack request already taken (a replay within the signature's window)")
            return nil
        }
        return body
    }

    private func workspace(team teamID: String) throws(APIError) -> Config.SlackWorkspace {
        guard let workspace = config.slackWorkspace(teamID: teamID) else {
            throw APIError(.forbidden, "team '\(teamID.prefix(40))' is not a workspace in Herald's config", reason: "forbidden")
        }
        return workspace
    }

    private func interaction(_ request: Request, _: HeraldRequestContext) async throws -> Response {
        guard let body = try await verifiedBody(request) else { return Response(status: .ok) }
        guard let interaction = FormBody.parse(body)["payload"].flatMap(SlackInteraction.init(payload:)) else {
            throw APIError.badRequest("expected a form with a JSON 'payload'", field: "payload")
        }
        let workspace = try workspace(team: interaction.teamID)
        switch interaction.type {
        case "view_submission":
            guard let form = interaction.view.flatMap(SlackAlertForm.Submission.init) else { return Response(status: .ok) }
            return try await submission(form, user: interaction.user, workspace: workspace)
        case "block_actions":
            let click = interaction.click
            deferred.run { await handle(click, workspace: workspace) }
            return Response(status: .ok)
        default:
            return Response(status: .ok)
        }
    }

    private func handle(_ click: SlackInteraction.Click, workspace: Config.SlackWorkspace) async {
        let client = SlackClient(workspace: workspace, http: http)
        let reply: CallbackReply
        if let (issueID, action) = click.value.flatMap(IssueAction.parse(value:)) {
            let person = await directory.user(click.userID, team: click.teamID, config: config, client: client)
            reply = await callbacks.handle(
                action, on: issueID, user: person.user, email: person.email, surface: "Slack",
                requestKey: "slack:\(click.teamID):\(click.userID):\(click.actionTS)")
        } else {
            reply = .unknownButton
        }
        let audience = CallbackReply.Audience(
            platform: "Slack", linkHint: "to add your Slack id \(click.userID) to your user's `slack_ids`",
            hiddenEmailReason: "the app needs the users:read.email scope")
        // The updated messages show a change; only what they cannot show is told.
        guard let text = reply.text(for: audience, confirmChanges: false), let url = click.responseURL else { return }
        do {
            try await client.respond(to: url, ephemeral: text)
        } catch {
            logger.warning("could not answer a Slack click", metadata: ["error": "\(error)"])
        }
    }

    // MARK: Slash commands

    /// `POST /slack/commands`: `/herald alert | status | help`, and `/herald` alone opens a form. Every answer
    /// is an ephemeral message; a refusal says why, never with an error status.
    private func command(_ request: Request, _: HeraldRequestContext) async throws -> Response {
        guard let body = try await verifiedBody(request) else {
            return try ephemeral("Herald has already taken this command.")
        }
        let command = SlashCommandRequest(form: FormBody.parse(body))
        let workspace = try workspace(team: command.teamID)
        let client = SlackClient(workspace: workspace, http: http)
        let person = await directory.user(command.userID, team: command.teamID, config: config, client: client)
        let requester = ChatAlertDesk.Requester(
            user: person.user, label: person.email ?? (command.userName.isEmpty ? command.userID : command.userName),
            surface: "Slack", channelID: command.channelID, channelName: command.channelName)
        if case .form = command.command {
            do {
                let view = SlackAlertForm.view(
                    projects: config.projects.map(\.slug), channelID: command.channelID, channelName: command.channelName)
                try await client.openView(triggerID: command.triggerID, view: view)
                return Response(status: .ok)
            } catch {
                return try ephemeral("Herald could not open the form (\(error)). Use `/herald alert <project> <title>`.")
            }
        }
        return try ephemeral(await desk.answer(command.command, from: requester))
    }

    private static let timestampHeader = HTTPField.Name("X-Slack-Request-Timestamp")!
    private static let signatureHeader = HTTPField.Name("X-Slack-Signature")!

    private func ephemeral(_ text: String) throws -> Response {
        try JSONResponse(["response_type": "ephemeral", "text": text])
    }

    /// The form's submission: per-field errors, or the alert raised and the modal closed.
    private func submission(_ form: SlackAlertForm.Submission, user: SlackInteraction.User?,
                            workspace: Config.SlackWorkspace) async throws -> Response
    {
        let userID = user?.id ?? ""
        let person = await directory.user(
            userID, team: workspace.teamID ?? "", config: config, client: SlackClient(workspace: workspace, http: http))
        let requester = ChatAlertDesk.Requester(
            user: person.user, label: person.email ?? user?.username ?? userID, surface: "Slack",
            channelID: form.channelID, channelName: form.channelName)
        var errors = form.errors
        if let project = form.project, let refusal = desk.refusal(project: project, for: requester) {
            errors["project"] = refusal
        }
        guard errors.isEmpty, let project = form.project, let title = form.title, let level = form.level else {
            return try JSONResponse(["response_action": "errors", "errors": errors as [String: any Sendable]])
        }
        _ = await desk.raise(project: project, title: title, description: form.description, level: level, by: requester)
        return Response(status: .ok)
    }
}
