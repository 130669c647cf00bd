import Foundation
import HeraldConsole
import HeraldTestSupport
import Testing

/// The ID token check, case by case: each defect of the provider double must be refused with its own reason.
@Suite struct IDTokenTests {
    let provider: OpenIDProviderDouble
    let keys: JSONWebKeySet
    let verifier: IDTokenVerifier

    init() throws {
        provider = try OpenIDProviderDouble()
        keys = try JSONWebKeySet(json: provider.keySetJSON)
        // The double is not serving: its issuer reads port 0, which is what the tokens carry too.
        verifier = IDTokenVerifier(issuer: provider.issuer, clientID: provider.clientID)
    }

    @Test func aGoodTokenGivesTheVerifiedEmail() throws {
        let token = provider.idToken(claims: provider.claims(email: "alice@example.com", nonce: "n-1"))
        let claims = try verifier.verify(token, keys: keys, nonce: "n-1")
        #expect(claims.email == "alice@example.com")
        #expect(claims.subject == "sub-alice@example.com")
    }

    @Test(arguments: [
        (OpenIDProviderDouble.Defect.wrongSignature, IDTokenError.badSignature),
        (.wrongAudience, .wrongAudience),
        (.wrongIssuer, .wrongIssuer("https://evil.example.com")),
        (.wrongNonce, .wrongNonce),
        (.expired, .expired),
        (.issuedInTheFuture, .issuedInTheFuture),
        (.unverifiedEmail, .noVerifiedEmail),
        (.algorithmNone, .algorithmNotAllowed("none")),
    ])
    func aSpoiledTokenIsRefused(defect: OpenIDProviderDouble.Defect, expected: IDTokenError) {
        let token = provider.idToken(claims: provider.claims(email: "alice@example.com", nonce: "n-1"), defect: defect)
        #expect(throws: expected) { try verifier.verify(token, keys: keys, nonce: "n-1") }
    }

    @Test func aTokenSignedWithAnotherAlgorithmIsRefused() {
        // HS256 with the public key as the secret: the classic algorithm-confusion forgery.
        let header = Data(#"{"alg":"HS256","kid":"test-key-1"}"#.utf8).base64EncodedString()
        let body = Data(#"{"iss":"x"}"#.utf8).base64EncodedString()
        #expect(throws: IDTokenError.algorithmNotAllowed("HS256")) {
            try verifier.verify("\(header).\(body).c2ln", keys: keys, nonce: "n")
        }
    }

    @Test func aTokenNamingAnUnknownKeyAsksForTheKeysAgain() throws {
        let token = provider.idToken(claims: provider.claims(email: "alice@example.com", nonce: "n"))
        let otherKeys = try JSONWebKeySet(json: Data(#"{"keys": []}"#.utf8))
        #expect(throws: IDTokenError.unknownKey("test-key-1")) { try verifier.verify(token, keys: otherKeys, nonce: "n") }
    }

    @Test(arguments: ["", "a.b", "a.b.c.d", "!!!.e30.", String(repeating: "a", count: 20_000)])
    func malformedTokensAreRefused(token: String) {
        #expect(throws: IDTokenError.self) { try verifier.verify(token, keys: keys, nonce: "n") }
    }

    @Test func aTamperedClaimBreaksTheSignature() throws {
        let token = provider.idToken(claims: provider.claims(email: "mallory@example.com", nonce: "n"))
        let parts = token.split(separator: ".").map(String.init)
        var claims = provider.claims(email: "alice@example.com", nonce: "n")
        claims["sub"] = "sub-mallory@example.com"
        let forged = try JSONSerialization.data(withJSONObject: claims).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        #expect(throws: IDTokenError.badSignature) {
            try verifier.verify([parts[0], forged, parts[2]].joined(separator: "."), keys: keys, nonce: "n")
        }
    }
}

/// Cookie values the console signs: a changed byte anywhere is refused.
@Suite struct ConsoleSecretsTests {
    @Test func signedValuesVerifyAndTamperedOnesDoNot() {
        let secrets = ConsoleSecrets(key: Array(repeating: 7, count: 32))
        let signed = secrets.signed("session-id")
        #expect(secrets.verified(signed) == "session-id")
        #expect(secrets.verified("session-iD" + signed.dropFirst(10)) == nil)
        #expect(secrets.verified(signed + "x") == nil)
        #expect(secrets.verified("session-id") == nil)
        #expect(ConsoleSecrets(key: Array(repeating: 8, count: 32)).verified(signed) == nil)
    }
}
