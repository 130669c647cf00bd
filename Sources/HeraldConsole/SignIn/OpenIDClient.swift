import Crypto
import Foundation
import HeraldConfig
import HeraldHTTP

/// Herald as an OpenID Connect relying party: discovery, the authorization request with PKCE, the code
/// exchange, and the ID token check against the provider's keys. Discovery and keys are fetched when first
/// needed and kept; an unknown `kid` fetches the keys once more (providers rotate them).
public actor OpenIDClient {
    public nonisolated let provider: Config.OpenIDConnect
    public nonisolated let redirectURI: String
    private let http: HTTPClient
    private var discovery: Discovery?
    private var keys: JSONWebKeySet?

    /// The parts of the discovery document Herald uses.
    public struct Discovery: Decodable, Sendable {
        public var issuer: String
        public var authorization_endpoint: String
        public var token_endpoint: String
        public var jwks_uri: String
    }

    /// Why sign-in with the provider failed, as the person is told.
    public enum Failure: Error, CustomStringConvertible {
        case provider(String)
        case token(IDTokenError)

        public var description: String {
            switch self {
            case .provider(let text): text
            case .token(let error): error.description
            }
        }
    }

    /// What the browser keeps between the redirect to the provider and its return: checked on return.
    public struct Request: Codable, Sendable {
        public var state: String
        public var nonce: String
        public var verifier: String
        /// The console page to return to.
        public var next: String
        public var expires: Double
    }

    public init(provider: Config.OpenIDConnect, publicURL: String, http: HTTPClient) {
        self.provider = provider
        self.redirectURI = publicURL + "/login/oidc/callback"
        self.http = http
    }

    /// A new sign-in: the URL to send the browser to, and the request to keep in its cookie.
    public func start(next: String, now: Date = Date()) async throws(Failure) -> (url: String, request: Request) {
        let discovery = try await discovered()
        let request = Request(
            state: ConsoleSecrets.token(), nonce: ConsoleSecrets.token(), verifier: ConsoleSecrets.token(), next: next,
            expires: now.timeIntervalSince1970 + 600)
        let challenge = Base64URL.encode(SHA256.hash(data: Data(request.verifier.utf8)))
        let query = FormEncoding.encode([
            ("response_type", "code"), ("client_id", provider.clientID), ("redirect_uri", redirectURI),
            ("scope", "openid email profile"), ("state", request.state), ("nonce", request.nonce),
            ("code_challenge", challenge), ("code_challenge_method", "S256"),
        ])
        let separator = discovery.authorization_endpoint.contains("?") ? "&" : "?"
        return (discovery.authorization_endpoint + separator + query, request)
    }

    /// Exchanges the code for an ID token and checks it for this request.
    public func finish(code: String, request: Request, now: Date = Date()) async throws(Failure) -> IDTokenClaims {
        let discovery = try await discovered()
        let body = FormEncoding.encode([
            ("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI),
            ("client_id", provider.clientID), ("client_secret", provider.clientSecret.value),
            ("code_verifier", request.verifier),
        ])
        let response = try await fetch(HTTPClient.Request(
            "POST", discovery.token_endpoint,
            headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json")],
            body: Array(body.utf8)), what: "the token endpoint")
        struct TokenResponse: Decodable {
            var id_token: String?
            var error: String?
            var error_description: String?
        }
        guard let answer = try? JSONDecoder().decode(TokenResponse.self, from: Data(response.body)) else {
            throw .provider("the token endpoint answered HTTP \(response.status) with something other than JSON")
        }
        guard let idToken = answer.id_token else {
            let reason = [answer.error, answer.error_description].compactMap { $0 }.joined(separator: ": ")
            throw .provider("the provider gave no ID token (HTTP \(response.status)\(reason.isEmpty ? "" : ", " + reason.prefix(200)))")
        }
        let verifier = IDTokenVerifier(issuer: provider.issuer, clientID: provider.clientID)
        let known = try await keySet(refresh: false)
        do {
            return try verifier.verify(idToken, keys: known, nonce: request.nonce, now: now)
        } catch .unknownKey {
            // Providers rotate keys: fetch the set once more before refusing.
            let fresh = try await keySet(refresh: true)
            do {
                return try verifier.verify(idToken, keys: fresh, nonce: request.nonce, now: now)
            } catch {
                throw .token(error)
            }
        } catch {
            throw .token(error)
        }
    }

    private func discovered() async throws(Failure) -> Discovery {
        if let discovery { return discovery }
        let response = try await fetch(
            HTTPClient.Request("GET", provider.issuer + "/.well-known/openid-configuration"),
            what: "discovery")
        guard response.status == 200, let document = try? JSONDecoder().decode(Discovery.self, from: Data(response.body)) else {
            throw .provider("the provider's discovery document could not be read (HTTP \(response.status))")
        }
        guard document.issuer == provider.issuer else {
            throw .provider("the discovery document names issuer '\(document.issuer.prefix(100))', not the configured '\(provider.issuer)'")
        }
        discovery = document
        return document
    }

    private func keySet(refresh: Bool) async throws(Failure) -> JSONWebKeySet {
        if let keys, !refresh { return keys }
        let discovery = try await discovered()
        let response = try await fetch(HTTPClient.Request("GET", discovery.jwks_uri), what: "the key set")
        guard response.status == 200 else { throw .provider("the provider's key set answered HTTP \(response.status)") }
        do {
            let fetched = try JSONWebKeySet(json: Data(response.body))
            keys = fetched
            return fetched
        } catch {
            throw .token(error)
        }
    }

    private func fetch(_ request: HTTPClient.Request, what: String) async throws(Failure) -> HTTPClient.Response {
        do {
            return try await http.send(request)
        } catch {
            throw .provider("\(what) of \(provider.issuer) could not be reached: \(error)")
        }
    }
}

/// `application/x-www-form-urlencoded`, for query strings and form bodies.
public enum FormEncoding {
    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    public static func encode(_ pairs: [(String, String)]) -> String {
        pairs.map { escape($0.0) + "=" + escape($0.1) }.joined(separator: "&")
    }

    public static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }
}
