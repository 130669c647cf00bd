import Crypto
import Foundation
import Hummingbird
import Synchronization
import _CryptoExtras

/// An OpenID Connect provider on loopback for tests: discovery, an authorization endpoint that signs in the
/// person the test chose (no page), a token endpoint that checks the code, the client secret and the PKCE
/// verifier, and a key set. ID tokens are RS256 JWTs signed with a key made for each double; `defect` makes
/// the next one wrong in one chosen way.
public final class OpenIDProviderDouble: Sendable {
    public let clientID: String
    public let clientSecret: String
    public let keyID = "test-key-1"
    private let key: _RSA.Signing.PrivateKey
    /// Another key with the same id: a token signed with it has a wrong signature.
    private let impostor: _RSA.Signing.PrivateKey
    private let state = Mutex(State())

    /// One way to make the next ID token wrong.
    public enum Defect: String, Sendable, CaseIterable {
        case wrongSignature, wrongAudience, wrongIssuer, wrongNonce, expired, issuedInTheFuture, unverifiedEmail
        case algorithmNone
    }

    private struct State {
        var signInAs = "alice@example.com"
        var defect: Defect?
        var codes: [String: Grant] = [:]
        var tokenRequests = 0
        var port = 0
    }

    private struct Grant {
        var email: String
        var nonce: String
        var challenge: String
        var redirectURI: String
    }

    public init(clientID: String = "herald-test", clientSecret: String = "test-client-secret") throws {
        self.clientID = clientID
        self.clientSecret = clientSecret
        key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        impostor = try _RSA.Signing.PrivateKey(keySize: .bits2048)
    }

    /// Serves the provider on a free loopback port; what `issuer` names.
    public func start() async -> LoopbackServer {
        let router = Router()
        let double = self
        router.get("/.well-known/openid-configuration") { _, _ in
            double.json([
                "issuer": double.issuer, "authorization_endpoint": double.issuer + "/authorize",
                "token_endpoint": double.issuer + "/token", "jwks_uri": double.issuer + "/jwks",
                "response_types_supported": ["code"], "id_token_signing_alg_values_supported": ["RS256"],
            ])
        }
        router.get("/jwks") { _, _ in double.json(["keys": [double.jwk]]) }
        router.get("/authorize") { request, _ in double.authorize(request) }
        router.post("/token") { request, _ in
            let body = try await request.body.collect(upTo: 64 << 10)
            return double.token(form: Array(buffer: body))
        }
        let server = await LoopbackServer(router: router)
        state.withLock { $0.port = server.port }
        return server
    }

    public var issuer: String { "http://127.0.0.1:\(state.withLock { $0.port })" }

    /// Who the next authorization signs in.
    public func signIn(as email: String) { state.withLock { $0.signInAs = email } }
    /// Makes the next ID token wrong in this way (once).
    public func spoil(next defect: Defect) { state.withLock { $0.defect = defect } }
    public var tokenRequests: Int { state.withLock { $0.tokenRequests } }

    /// The public key as a JWK.
    public var jwk: [String: String] {
        let (n, e) = Self.primitives(key.publicKey)
        return ["kty": "RSA", "kid": keyID, "alg": "RS256", "use": "sig", "n": n, "e": e]
    }

    /// A JSON Web Key Set with this double's key.
    public var keySetJSON: Data { (try? JSONSerialization.data(withJSONObject: ["keys": [jwk]])) ?? Data() }

    /// A signed ID token with these claims, spoiled by `defect` when given.
    public func idToken(claims: [String: Any], defect: Defect? = nil) -> String {
        var claims = claims
        switch defect {
        case .wrongAudience: claims["aud"] = "someone-else"
        case .wrongIssuer: claims["iss"] = "https://evil.example.com"
        case .wrongNonce: claims["nonce"] = "not-the-nonce"
        case .expired: claims["exp"] = Date().timeIntervalSince1970 - 3_600
        case .issuedInTheFuture: claims["iat"] = Date().timeIntervalSince1970 + 3_600
        case .unverifiedEmail: claims["email_verified"] = false
        default: break
        }
        let algorithm = defect == .algorithmNone ? "none" : "RS256"
        let header = Self.base64URL(try! JSONSerialization.data(withJSONObject: ["alg": algorithm, "kid": keyID, "typ": "JWT"]))
        let payload = Self.base64URL(try! JSONSerialization.data(withJSONObject: claims))
        let input = header + "." + payload
        guard defect != .algorithmNone else { return input + "." }
        let signer = defect == .wrongSignature ? impostor : key
        let signature = try! signer.signature(for: Data(input.utf8), padding: .insecurePKCS1v1_5)
        return input + "." + Self.base64URL(signature.rawRepresentation)
    }

    /// The claims a good token for `email` carries.
    public func claims(email: String, nonce: String, now: Date = Date()) -> [String: Any] {
        [
            "iss": issuer, "aud": clientID, "sub": "sub-" + email, "email": email, "email_verified": true,
            "nonce": nonce, "iat": now.timeIntervalSince1970, "exp": now.timeIntervalSince1970 + 600,
            "name": email.split(separator: "@").first.map(String.init) ?? email,
        ]
    }

    // MARK: Endpoints

    private func authorize(_ request: Request) -> Response {
        let query = request.uri.queryParameters
        guard query["response_type"] == "code", query["client_id"].map(String.init) == clientID,
            query["code_challenge_method"] == "S256", let challenge = query["code_challenge"].map(String.init),
            let redirect = query["redirect_uri"].map(String.init), let state = query["state"].map(String.init),
            let nonce = query["nonce"].map(String.init)
        else {
            return Response(status: .badRequest, body: .init(byteBuffer: ByteBuffer(string: "invalid_request: \(request.uri)")))
        }
        let code = UUID().uuidString
        self.state.withLock {
            $0.codes[code] = Grant(email: $0.signInAs, nonce: nonce, challenge: challenge, redirectURI: redirect)
        }
        var components = URLComponents(string: redirect)
        components?.queryItems = [URLQueryItem(name: "code", value: code), URLQueryItem(name: "state", value: state)]
        return Response(status: .found, headers: [.location: components?.string ?? redirect])
    }

    private func token(form: [UInt8]) -> Response {
        var fields: [String: String] = [:]
        for pair in String(decoding: form, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            if parts.count == 2 { fields[parts[0]] = parts[1] }
        }
        let (grant, defect) = state.withLock { state -> (Grant?, Defect?) in
            state.tokenRequests += 1
            let grant = fields["code"].flatMap { state.codes.removeValue(forKey: $0) }
            let defect = state.defect
            state.defect = nil
            return (grant, defect)
        }
        guard fields["grant_type"] == "authorization_code", fields["client_id"] == clientID,
            fields["client_secret"] == clientSecret, let grant, fields["redirect_uri"] == grant.redirectURI,
            let verifier = fields["code_verifier"],
            Self.base64URL(SHA256.hash(data: Data(verifier.utf8))) == grant.challenge
        else {
            return json(["error": "invalid_grant"], status: .badRequest)
        }
        let token = idToken(claims: claims(email: grant.email, nonce: grant.nonce), defect: defect)
        return json(["access_token": "at-" + UUID().uuidString, "token_type": "Bearer", "id_token": token])
    }

    private func json(_ object: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    private static func base64URL<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The modulus and exponent of an RSA public key, base64url, read from its PKCS#1 DER.
    private static func primitives(_ key: _RSA.Signing.PublicKey) -> (n: String, e: String) {
        let components = try! key.getKeyPrimitives()
        return (base64URL(components.modulus), base64URL(components.publicExponent))
    }
}
