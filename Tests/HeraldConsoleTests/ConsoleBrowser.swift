import Foundation
import HeraldConsole
import HeraldTestSupport

/// A minimal browser for console tests over real HTTP: it keeps the cookies Herald sets, and reads the
/// session's CSRF token from the forms of the pages it loads.
final class ConsoleBrowser {
    let server: RunningServer
    var cookies: [String: String] = [:]

    init(server: RunningServer) {
        self.server = server
    }

    var cookieHeader: [(String, String)] {
        cookies.isEmpty ? [] : [("Cookie", cookies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; "))]
    }

    /// Sends a request with the cookies, and keeps what the answer sets.
    @discardableResult
    func send(_ method: String, _ path: String, form: [(String, String)]? = nil) async throws -> HTTPTestResponse {
        var headers = cookieHeader
        var body: [UInt8] = []
        if let form {
            headers.append(("Content-Type", "application/x-www-form-urlencoded"))
            body = Array(FormEncoding.encode(form).utf8)
        }
        let response = try await server.send(HTTPTestRequest(method, path, headers: headers, body: body))
        keep(response)
        return response
    }

    func get(_ path: String) async throws -> HTTPTestResponse { try await send("GET", path) }

    func post(_ path: String, _ form: [(String, String)]) async throws -> HTTPTestResponse {
        try await send("POST", path, form: form)
    }

    /// Stores a `Set-Cookie` (the test client keeps one per response); a `Max-Age=0` one deletes.
    func keep(_ response: HTTPTestResponse) {
        guard let header = response.headers["set-cookie"], let pair = header.split(separator: ";").first,
            let equals = pair.firstIndex(of: "=")
        else { return }
        let name = String(pair[..<equals]).trimmingCharacters(in: .whitespaces)
        let value = String(pair[pair.index(after: equals)...])
        if header.contains("Max-Age=0") { cookies[name] = nil } else { cookies[name] = value }
    }

    /// Signs in as `email` through a one-time link, the way `herald login-link` makes one.
    func signIn(_ email: String) async throws {
        let link = try await SignInLinks(store: server.server.store, config: server.server.config).issue(email: email, via: "test")
        let token = String(link.split(separator: "/").last ?? "")
        let answer = try await post("/login/link", [("token", token), ("next", "/issues")])
        guard answer.status == 303, cookies["herald_session"] != nil else { throw SignInFailed(status: answer.status) }
    }

    struct SignInFailed: Error { var status: Int }

    /// The CSRF token in the forms of a page.
    static func csrf(in page: HTTPTestResponse) -> String? {
        guard let range = page.text.range(of: #"name="csrf" value=""#) else { return nil }
        let rest = page.text[range.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }
}
