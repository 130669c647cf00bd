import HeraldConfig
import HeraldCore
import Hummingbird

/// The admin token check in front of the admin API and the rule endpoints: `Authorization: Bearer <token>`,
/// compared in constant time. Without a configured token those routes are closed.
struct AdminAuthentication<Context: RequestContext>: RouterMiddleware {
    let token: Secret?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        guard let expected = token else {
            throw APIError(.unauthorized, "no admin_token is configured, so the admin API is closed", reason: "unauthorized")
        }
        guard let given = BearerToken(request.headers[.authorization]) else {
            throw APIError.unauthorized("send the admin token as 'Authorization: Bearer <token>'")
        }
        guard ConstantTime.equal(given.value, expected.value) else { throw APIError.unauthorized("wrong admin token") }
        return try await next(request, context)
    }
}
