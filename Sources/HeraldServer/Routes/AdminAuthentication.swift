import HeraldConfig
import HeraldConsole
import HeraldCore
import HeraldStore
import Hummingbird

/// The token check in front of the admin API and the rule endpoints: `Authorization: Bearer <token>`.
///
/// Two kinds of token: the config's `admin_token` (every scope, compared in constant time), and named tokens
/// made with `herald tokens create` (looked up by their SHA-256 in the store at each request, so making,
/// rotating and revoking one needs no restart). Each request needs a scope: reading needs `read`, acting on
/// an issue `act`, reloading the rules `admin`. A token short of it is answered 403 and nothing is done.
struct AdminAuthentication<Context: RequestContext>: RouterMiddleware {
    let token: Secret?
    let store: Store

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        guard let given = BearerToken(request.headers[.authorization]) else {
            throw APIError.unauthorized("send an admin token as 'Authorization: Bearer <token>'")
        }
        let needed = Self.scope(method: request.method, path: request.uri.path)
        if let expected = token, ConstantTime.equal(given.value, expected.value) {
            return try await next(request, context)
        }
        guard given.value.utf8.count <= 512, let named = try await store.adminToken(hash: ConsoleSecrets.hash(given.value)) else {
            throw APIError.unauthorized("wrong admin token")
        }
        guard named.scope >= needed else {
            throw APIError(
                .forbidden, "the token '\(named.name)' has scope \(named.scope.rawValue); this needs \(needed.rawValue)",
                reason: "forbidden")
        }
        return try await next(request, context)
    }

    /// What a request needs: `GET` reads; acting on issues needs `act`; everything else (reloading) `admin`.
    static func scope(method: HTTPRequest.Method, path: String) -> AdminScope {
        if method == .get || method == .head { return .read }
        if path.hasPrefix("/api/v1/issues/") && path.hasSuffix("/actions") { return .act }
        return .admin
    }
}
