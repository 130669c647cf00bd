import Crypto
import Foundation
import HeraldCore
import _CryptoExtras

/// A provider's signing keys, as its `jwks_uri` serves them (RFC 7517). Keys Herald cannot use (other key
/// types, encryption keys) are skipped, not refused, so one odd key does not stop sign-in.
public struct JSONWebKeySet: Sendable {
    public struct Key: Sendable {
        public var id: String?
        public var algorithm: String?
        enum Material: Sendable {
            case rsa(_RSA.Signing.PublicKey)
            /// The key's x and y, 32 bytes each (P256's key type is not `Sendable`, so it is made per check).
            case p256(Data)
        }
        var material: Material
    }

    public var keys: [Key]

    private struct Document: Decodable {
        struct Entry: Decodable {
            var kty: String?
            var kid: String?
            var alg: String?
            var use: String?
            var n: String?
            var e: String?
            var crv: String?
            var x: String?
            var y: String?
        }
        var keys: [Entry]
    }

    public init(json: Data) throws(IDTokenError) {
        guard json.count <= 256 << 10, let document = try? JSONDecoder().decode(Document.self, from: json) else {
            throw .malformedKeySet
        }
        keys = document.keys.compactMap { entry in
            guard entry.use == nil || entry.use == "sig" else { return nil }
            switch entry.kty {
            case "RSA":
                guard let n = entry.n.flatMap(Base64URL.decode), let e = entry.e.flatMap(Base64URL.decode),
                    let key = try? _RSA.Signing.PublicKey(n: n, e: e)
                else { return nil }
                return Key(id: entry.kid, algorithm: entry.alg, material: .rsa(key))
            case "EC":
                guard entry.crv == "P-256", let x = entry.x.flatMap(Base64URL.decode), let y = entry.y.flatMap(Base64URL.decode),
                    x.count == 32, y.count == 32, (try? P256.Signing.PublicKey(rawRepresentation: x + y)) != nil
                else { return nil }
                return Key(id: entry.kid, algorithm: entry.alg, material: .p256(x + y))
            default:
                return nil
            }
        }
    }
}

/// Why an ID token was refused. Each says what was wrong, never the token itself.
public enum IDTokenError: Error, Equatable, CustomStringConvertible {
    case malformed(String)
    case algorithmNotAllowed(String)
    /// No key with the token's `kid`: the caller fetches the key set again once, then gives up.
    case unknownKey(String?)
    case badSignature
    case wrongIssuer(String)
    case wrongAudience
    case wrongAuthorizedParty
    case expired
    case issuedInTheFuture
    case wrongNonce
    case noVerifiedEmail
    case malformedKeySet

    public var description: String {
        switch self {
        case .malformed(let what): "the ID token is malformed: \(what)"
        case .algorithmNotAllowed(let alg): "the ID token is signed with '\(alg.prefix(20))'; Herald accepts RS256 and ES256"
        case .unknownKey(let kid): "the ID token's key '\(kid?.prefix(60) ?? "(none)")' is not in the provider's key set"
        case .badSignature: "the ID token's signature does not verify"
        case .wrongIssuer(let issuer): "the ID token was issued by '\(issuer.prefix(100))', not the configured issuer"
        case .wrongAudience: "the ID token is not meant for this client (aud)"
        case .wrongAuthorizedParty: "the ID token names another authorized party (azp)"
        case .expired: "the ID token has expired"
        case .issuedInTheFuture: "the ID token was issued in the future (iat)"
        case .wrongNonce: "the ID token's nonce is not the one this sign-in sent"
        case .noVerifiedEmail: "the provider did not vouch for an email address (email, email_verified)"
        case .malformedKeySet: "the provider's key set (jwks_uri) could not be read"
        }
    }
}

/// Who an ID token says signed in.
public struct IDTokenClaims: Sendable, Equatable {
    public var subject: String
    public var email: String
    public var name: String?
}

/// Checks an OpenID Connect ID token as a relying party must (OpenID Connect Core §3.1.3.7): the JWS signature
/// with the provider's key, only RS256 or ES256, then `iss`, `aud`, `azp`, `exp`, `iat` and `nonce`, and a
/// verified email.
public struct IDTokenVerifier: Sendable {
    public var issuer: String
    public var clientID: String
    /// How far the provider's clock may be from Herald's.
    public var clockSkew: TimeInterval = 120

    public static let allowedAlgorithms: Set<String> = ["RS256", "ES256"]

    public init(issuer: String, clientID: String) {
        self.issuer = issuer
        self.clientID = clientID
    }

    private struct Header: Decodable {
        var alg: String
        var kid: String?
    }

    private struct Claims: Decodable {
        var iss: String?
        var sub: String?
        var aud: Audience?
        var azp: String?
        var exp: Double?
        var iat: Double?
        var nonce: String?
        var email: String?
        var email_verified: Flag?
        var name: String?
    }

    /// `aud` is a string or an array of strings.
    private enum Audience: Decodable {
        case one(String), many([String])
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let one = try? container.decode(String.self) { self = .one(one) } else { self = .many(try container.decode([String].self)) }
        }
        var values: [String] {
            switch self {
            case .one(let value): [value]
            case .many(let values): values
            }
        }
    }

    /// `email_verified` as a boolean, or the string some providers send.
    private struct Flag: Decodable {
        var value: Bool
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let flag = try? container.decode(Bool.self) { value = flag } else { value = try container.decode(String.self) == "true" }
        }
    }

    public func verify(_ token: String, keys: JSONWebKeySet, nonce: String, now: Date = Date()) throws(IDTokenError)
        -> IDTokenClaims
    {
        guard token.utf8.count <= 16 << 10 else { throw .malformed("longer than 16 KiB") }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw .malformed("not three dot-separated parts") }
        guard let headerData = Base64URL.decode(parts[0]), let header = try? JSONDecoder().decode(Header.self, from: headerData)
        else { throw .malformed("the header is not base64url JSON with 'alg'") }
        guard Self.allowedAlgorithms.contains(header.alg) else { throw .algorithmNotAllowed(header.alg) }
        guard let signature = Base64URL.decode(parts[2]) else { throw .malformed("the signature is not base64url") }
        let candidates = keys.keys.filter { key in
            (header.kid == nil || key.id == header.kid) && (key.algorithm == nil || key.algorithm == header.alg)
        }
        guard !candidates.isEmpty else { throw .unknownKey(header.kid) }
        let signingInput = Data((parts[0] + "." + parts[1]).utf8)
        let verified = candidates.contains { key in
            switch (header.alg, key.material) {
            case ("RS256", .rsa(let publicKey)):
                return publicKey.isValidSignature(
                    _RSA.Signing.RSASignature(rawRepresentation: signature), for: signingInput, padding: .insecurePKCS1v1_5)
            case ("ES256", .p256(let raw)):
                guard let publicKey = try? P256.Signing.PublicKey(rawRepresentation: raw),
                    let ecdsa = try? P256.Signing.ECDSASignature(rawRepresentation: signature)
                else { return false }
                return publicKey.isValidSignature(ecdsa, for: signingInput)
            default:
                return false
            }
        }
        guard verified else { throw .badSignature }

        guard let claimsData = Base64URL.decode(parts[1]), let claims = try? JSONDecoder().decode(Claims.self, from: claimsData)
        else { throw .malformed("the claims are not base64url JSON") }
        guard let iss = claims.iss, iss == issuer else { throw .wrongIssuer(claims.iss ?? "(none)") }
        let audiences = claims.aud?.values ?? []
        guard audiences.contains(clientID) else { throw .wrongAudience }
        if audiences.count > 1 || claims.azp != nil {
            guard claims.azp == clientID else { throw .wrongAuthorizedParty }
        }
        let seconds = now.timeIntervalSince1970
        guard let exp = claims.exp, exp.isFinite, exp + clockSkew > seconds else { throw .expired }
        if let iat = claims.iat {
            guard iat.isFinite, iat - clockSkew <= seconds else { throw .issuedInTheFuture }
        }
        guard let sent = claims.nonce, ConstantTime.equal(sent, nonce) else { throw .wrongNonce }
        guard let email = claims.email, !email.isEmpty, claims.email_verified?.value == true else { throw .noVerifiedEmail }
        guard let subject = claims.sub, !subject.isEmpty else { throw .malformed("no 'sub' claim") }
        return IDTokenClaims(subject: subject, email: email, name: claims.name)
    }
}
