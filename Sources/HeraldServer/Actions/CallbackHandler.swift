import HeraldConfig
import Hummingbird
import HeraldCore
import HeraldStore
import Logging

/// What chat platforms call back with, whatever the platform: a verified click becomes an action on the
/// issue through `IssueActions`, and a slash command goes to the `ChatAlertDesk`. The routes only verify,
/// decode and render.
struct CallbackHandler: Sendable {
    let actions: IssueActions
    let desk: ChatAlertDesk
    let logger: Logger

    var config: Config { actions.config }

    /// Carries out `action` for the person behind a click. `user` is the Herald user they map to, nil when
    /// they map to none (`email` is then what the platform reported); `requestKey` names the click so a
    /// retried request counts once.
    func handle(
        _ action: IssueAction, on issueID: Int64, user: Config.User?, email: String?, surface: String,
        requestKey: String?
    ) async -> CallbackReply {
        guard let user else { return .unknownPerson(email: email) }
        let actor = Actor(email: user.email, name: user.name, surface: surface)
        do {
            switch try await actions.perform(action, on: issueID, actor: actor, user: user, requestKey: requestKey) {
            case .changed(let issue, let record): return .done(issue, record)
            case .unchanged(let issue): return .unchanged(issue)
            case .duplicate(let issue): return .duplicate(issue)
            }
        } catch let refusal as IssueActions.Refusal {
            switch refusal {
            case .readOnly: return .readOnly
            case .unknownAssignee: return .unknownAssignee(refusal.description)
            }
        } catch StoreError.unknownIssue {
            return .unknownIssue
        } catch {
            logger.error("a chat action failed", metadata: ["error": "\(error)", "issue": "\(issueID)", "surface": "\(surface)"])
            return .failed(String(describing: error))
        }
    }
}

/// A platform's callback routes: what they read of the one handler they share.
protocol ChatCallbackRoutes {
    var callbacks: CallbackHandler { get }
}

extension ChatCallbackRoutes {
    var config: Config { callbacks.config }
    var desk: ChatAlertDesk { callbacks.desk }
    var logger: Logger { callbacks.logger }

    /// Registers each callback path for POST with its handler.
    func post(
        _ handlers: [String: @Sendable (Request, HeraldRequestContext) async throws -> Response],
        on router: Router<HeraldRequestContext>
    ) {
        for (path, handler) in handlers {
            router.post(RouterPath(path)) { request, context in try await handler(request, context) }
        }
    }
}
