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
    let http: HTTPClient
    let directory: SlackDirectory
    let logger: Logger

    func register(on router: Router<BasicRequestContext>) {
        router.post("/slack/interactions") { request, _ in
            try await interaction(request)
        }
    }

    private func interaction(_ request: Request) async throws -> Response {
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
        guard let text = FormBody.parse(body)["payload"],
            let payload = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
        else {
            throw APIError.badRequest("expected a form with a JSON 'payload'", field: "payload")
        }
        let user = payload["user"] as? [String: Any]
        let teamID = (payload["team"] as? [String: Any])?["id"] as? String ?? user?["team_id"] as? String ?? ""
        guard let workspace = config.slackWorkspace(teamID: teamID) else {
            throw APIError(.forbidden, "team '\(teamID.prefix(40))' is not a workspace in Herald's config", reason: "forbidden")
        }
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
