import Foundation
import HeraldChat
import HeraldConfig
import HeraldCore
import HeraldDelivery
import HeraldHTTP
import HeraldStore
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// `POST /slack/interactions`: button clicks and menu choices on Herald's messages.
///
/// Every request is verified over its raw body with the app's signing secret (401 otherwise) and must come from
/// a configured workspace (403 otherwise); nothing changes in either case. Slack wants an answer within three
/// seconds, so the answer is sent at once and the work (finding who clicked, changing the issue) follows;
/// what the clicker needs to know goes back as an ephemeral message through the interaction's response_url.
struct SlackRoutes {
    let config: Config
    let actions: IssueActions
    let desk: ChatAlertDesk
    let http: HTTPClient
    let directory: SlackDirectory
    let logger: Logger

    func register(on router: Router<BasicRequestContext>) {
        router.post("/slack/interactions") { request, _ in
            try await interaction(request)
        }
        router.post("/slack/commands") { request, _ in
            try await command(request)
        }
    }

    /// The raw body, once its signature is checked.
    private func verifiedBody(_ request: Request) async throws -> [UInt8] {
        let body = Array(buffer: try await request.body.collect(upTo: 1 << 20))
        guard let secret = config.slack?.signingSecret else {
            throw APIError(.unauthorized, "slack.signing_secret is not configured, so Slack requests cannot be verified",
                           reason: "unauthorized")
        }
        let verdict = SlackSignature(secret: secret.value).verify(
            timestamp: request.headers[HTTPField.Name("X-Slack-Request-Timestamp")!],
            signature: request.headers[HTTPField.Name("X-Slack-Signature")!], body: body)
        guard verdict == .valid else {
            logger.warning("refused a Slack request", metadata: ["reason": "\(verdict)"])
            throw APIError(.unauthorized, "bad Slack signature: \(verdict)", reason: "unauthorized")
        }
        return body
    }

    private func workspace(team teamID: String) throws(APIError) -> Config.SlackWorkspace {
        guard let workspace = config.slackWorkspace(teamID: teamID) else {
            throw APIError(.forbidden, "team '\(teamID.prefix(40))' is not a workspace in Herald's config", reason: "forbidden")
        }
        return workspace
    }

    private func interaction(_ request: Request) async throws -> Response {
        let body = try await verifiedBody(request)
        guard let text = FormBody.parse(body)["payload"],
            let payload = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
        else {
            throw APIError.badRequest("expected a form with a JSON 'payload'", field: "payload")
        }
        let user = payload["user"] as? [String: Any]
        let teamID = (payload["team"] as? [String: Any])?["id"] as? String ?? user?["team_id"] as? String ?? ""
        let workspace = try workspace(team: teamID)
        if payload["type"] as? String == "view_submission" { return try await submission(payload, workspace: workspace) }
        guard payload["type"] as? String == "block_actions" else { return Response(status: .ok) }
        let click = Click(payload: payload)
        Task { await handle(click, workspace: workspace) }
        return Response(status: .ok)
    }

    /// What Herald needs of a block_actions payload, read before the answer goes out.
    struct Click: Sendable {
        var userID: String
        var teamID: String
        var value: String?
        var actionTS: String
        var responseURL: String?

        init(payload: [String: Any]) {
            let user = payload["user"] as? [String: Any]
            userID = user?["id"] as? String ?? ""
            teamID = (payload["team"] as? [String: Any])?["id"] as? String ?? user?["team_id"] as? String ?? ""
            let action = (payload["actions"] as? [[String: Any]])?.first
            value = action?["value"] as? String ?? (action?["selected_option"] as? [String: Any])?["value"] as? String
            actionTS = action?["action_ts"] as? String ?? (payload["container"] as? [String: Any])?["message_ts"] as? String ?? ""
            responseURL = payload["response_url"] as? String
        }
    }

    private func handle(_ click: Click, workspace: Config.SlackWorkspace) async {
        let client = SlackClient(workspace: workspace, http: http)
        func tell(_ text: String) async {
            guard let url = click.responseURL else { return }
            do {
                try await client.respond(to: url, ephemeral: text)
            } catch {
                logger.warning("could not answer a Slack click", metadata: ["error": "\(error)"])
            }
        }
        guard let (issueID, action) = click.value.flatMap(IssueAction.parse(value:)) else {
            await tell("Herald does not know that button. It may come from an older version of Herald.")
            return
        }
        let person = await directory.user(click.userID, team: click.teamID, config: config, client: client)
        guard let user = person.user else {
            let email = person.email.map { "Slack gives your email as \($0)" }
                ?? "Slack does not show Herald your email (the app needs the users:read.email scope)"
            await tell("Herald does not know you yet: \(email). Ask a Herald admin to add you to `users` in "
                       + "herald.yaml, or to add your Slack id \(click.userID) to your user's `slack_ids`.")
            return
        }
        let actor = Actor(email: user.email, name: user.name, surface: "Slack")
        do {
            let outcome = try await actions.perform(
                action, on: issueID, actor: actor, user: user,
                requestKey: "slack:\(click.teamID):\(click.userID):\(click.actionTS)")
            if case .unchanged(let issue) = outcome {
                await tell("\(issue.shortID) is already \(issue.stateDescription); nothing changed.")
            }
        } catch let refusal as IssueActions.Refusal {
            switch refusal {
            case .readOnly: await tell("You are a stakeholder in Herald: you can follow issues, but not change them.")
            case .unknownAssignee: await tell(refusal.description)
            }
        } catch StoreError.unknownIssue {
            await tell("That issue is not in Herald (buttons on `herald notify-test` messages name no real issue).")
        } catch {
            logger.error("a Slack click failed", metadata: ["error": "\(error)", "issue": "\(issueID)"])
            await tell("Herald could not do that: \(error)")
        }
    }
}

// MARK: Slash commands

extension SlackRoutes {
    /// `POST /slack/commands`: `/herald alert | status | help`, and `/herald` alone opens a form. Every answer
    /// is an ephemeral message; a refusal says why, never with an error status.
    private func command(_ request: Request) async throws -> Response {
        let fields = FormBody.parse(try await verifiedBody(request))
        let workspace = try workspace(team: fields["team_id"] ?? "")
        let client = SlackClient(workspace: workspace, http: http)
        let userID = fields["user_id"] ?? ""
        let person = await directory.user(userID, team: fields["team_id"] ?? "", config: config, client: client)
        let requester = ChatAlertDesk.Requester(
            user: person.user, label: person.email ?? fields["user_name"] ?? userID, surface: "Slack",
            channelID: fields["channel_id"] ?? "", channelName: fields["channel_name"] ?? "")
        switch ChatCommand(text: fields["text"] ?? "") {
        case .alert(let project, let title):
            return try reply(await desk.raise(project: project, title: title, by: requester))
        case .status(let reference):
            return try reply(await desk.status(reference))
        case .help:
            return try reply(ChatCommand.usage)
        case .invalid(let problem):
            return try reply(problem + "\n" + ChatCommand.usage)
        case .form:
            do {
                try await client.openView(triggerID: fields["trigger_id"] ?? "", view: alertForm(requester))
                return Response(status: .ok)
            } catch {
                return try reply("Herald could not open the form (\(error)). Use `/herald alert <project> <title>`.")
            }
        }
    }

    private func reply(_ text: String) throws -> Response {
        try JSONResponse(["response_type": "ephemeral", "text": text])
    }

    /// The modal for raising an alert; the channel travels in `private_metadata`.
    private func alertForm(_ requester: ChatAlertDesk.Requester) -> [String: any Sendable] {
        func option(_ text: String, _ value: String) -> [String: any Sendable] {
            ["text": ["type": "plain_text", "text": text] as [String: any Sendable], "value": value]
        }
        func input(_ id: String, _ label: String, _ element: [String: any Sendable], optional: Bool = false)
            -> [String: any Sendable]
        {
            ["type": "input", "block_id": id, "optional": optional, "element": element,
             "label": ["type": "plain_text", "text": label] as [String: any Sendable]]
        }
        let projects = config.projects.prefix(100).map { option($0.slug, $0.slug) }
        let levels = Level.allCases.reversed().map { option($0.name, $0.name) }
        let metadata = JSONWriter.text(["channel_id": requester.channelID, "channel_name": requester.channelName])
        return [
            "type": "modal", "callback_id": "herald_alert", "private_metadata": metadata,
            "title": ["type": "plain_text", "text": "Raise an alert"] as [String: any Sendable],
            "submit": ["type": "plain_text", "text": "Raise"] as [String: any Sendable],
            "close": ["type": "plain_text", "text": "Cancel"] as [String: any Sendable],
            "blocks": [
                input("project", "Project", ["type": "static_select", "action_id": "value", "options": Array(projects)]),
                input("title", "Title", ["type": "plain_text_input", "action_id": "value", "max_length": 200]),
                input("description", "Description", ["type": "plain_text_input", "action_id": "value", "multiline": true],
                      optional: true),
                input("level", "Level", ["type": "static_select", "action_id": "value", "options": levels,
                                         "initial_option": option("error", "error")]),
            ] as [any Sendable],
        ]
    }

    /// The form's submission: per-field errors, or the alert raised and the modal closed.
    fileprivate func submission(_ payload: [String: Any], workspace: Config.SlackWorkspace) async throws -> Response {
        let view = payload["view"] as? [String: Any] ?? [:]
        guard view["callback_id"] as? String == "herald_alert" else { return Response(status: .ok) }
        let values = (view["state"] as? [String: Any])?["values"] as? [String: Any] ?? [:]
        func value(_ block: String) -> String? {
            let field = (values[block] as? [String: Any])?["value"] as? [String: Any]
            let text = field?["value"] as? String ?? (field?["selected_option"] as? [String: Any])?["value"] as? String
            return text.flatMap { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? nil : $0 }
        }
        let metadata = (view["private_metadata"] as? String).flatMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any]
        } ?? [:]
        let user = payload["user"] as? [String: Any]
        let userID = user?["id"] as? String ?? ""
        let person = await directory.user(
            userID, team: workspace.teamID ?? "", config: config, client: SlackClient(workspace: workspace, http: http))
        let requester = ChatAlertDesk.Requester(
            user: person.user, label: person.email ?? user?["username"] as? String ?? userID, surface: "Slack",
            channelID: metadata["channel_id"] as? String ?? "", channelName: metadata["channel_name"] as? String ?? "")
        var errors: [String: any Sendable] = [:]
        let project = value("project")
        let title = value("title")
        let level = value("level").flatMap(Level.init(name:))
        if project == nil { errors["project"] = "Choose a project." }
        if title == nil { errors["title"] = "Give the alert a title." }
        if level == nil { errors["level"] = "Choose a level." }
        if let project, let refusal = desk.refusal(project: project, for: requester) { errors["project"] = refusal }
        guard errors.isEmpty, let project, let title, let level else {
            return try JSONResponse(["response_action": "errors", "errors": errors])
        }
        _ = await desk.raise(project: project, title: title, description: value("description"), level: level, by: requester)
        return Response(status: .ok)
    }
}

/// Slack users mapped to Herald users: by an explicit `slack_ids` entry, else by the email `users.info`
/// gives, which is asked once per user and kept.
actor SlackDirectory {
    private var emails: [String: String?] = [:]

    func user(_ id: String, team: String, config: Config, client: SlackClient) async
        -> (user: Config.User?, email: String?)
    {
        if let user = config.user(slackID: id) { return (user, user.email) }
        let key = team + ":" + id
        let email: String?
        if let known = emails[key] {
            email = known
        } else {
            do {
                email = try await client.email(ofUser: id)
                emails[key] = email
            } catch {
                email = nil
            }
        }
        return (email.flatMap(config.user(email:)), email)
    }
}
