// libFuzzer entry points for every decoder Herald runs on bytes from outside. One binary holds them all;
// `HERALD_FUZZ_TARGET` picks one (see `Tests/Fuzz/run.sh`, which builds it with `--sanitize=fuzzer`).
//
// A target passes when its decoder returns or throws for any input. A crash, a trap, a hang past libFuzzer's
// timeout or memory past its limit is a finding, saved by libFuzzer as a crash file; each one fixed becomes a
// regression test in the suite.

import Foundation
import HeraldChat
import HeraldConfig
import HeraldConsole
import HeraldCore
import HeraldRules
@testable import HeraldServer

/// The project events are read for: what the ingest routes pass once a key has been checked.
private let project = Config.Project(id: 1, slug: "payments", keys: [Secret("k")])

/// The default scrubbing, with personal data too, as `herald serve` runs it on every event.
private let scrubber: Scrubber = {
    var scrubbing = Config.Scrubbing()
    scrubbing.personalData = true
    return try! Scrubber(scrubbing)
}()

/// The config rule files are read against: the projects, chat targets and users a rule may name.
private let ruleConfig = Config(
    projects: [project, Config.Project(id: 2, slug: "web")],
    slack: Config.Slack(workspaces: [Config.SlackWorkspace(name: "acme", token: Secret("xoxb"))]),
    mattermost: [Config.MattermostConnector(name: "ops", url: "https://mm.example.com", token: Secret("t"))],
    webhooks: [Config.Webhook(name: "pager", url: "https://example.com/hook")],
    users: [Config.User(email: "alice@example.com", name: "Alice", role: .admin)])

/// Each target takes the fuzzer's bytes as the untrusted input of one decoder, exactly as Herald reads it.
private let targets: [String: @Sendable ([UInt8]) -> Void] = [
    // The three ingest bodies, after decompression, through the route's own parse.
    "ingest-herald": { bytes in _ = try? IngestRoutes.parse(bytes, endpoint: .herald, project: project, scrubber: scrubber) },
    "ingest-store": { bytes in _ = try? IngestRoutes.parse(bytes, endpoint: .store, project: project, scrubber: scrubber) },
    "ingest-envelope": { bytes in _ = try? IngestRoutes.parse(bytes, endpoint: .envelope, project: project, scrubber: scrubber) },
    // A compressed body: the first byte picks the encoding, the rest is the body; the limit is the default.
    "decompress": { bytes in
        guard let first = bytes.first else { return }
        let encoding: ContentEncoding = first & 1 == 0 ? .gzip : .deflate
        _ = try? BodyDecompression.inflate(Array(bytes.dropFirst()), encoding: encoding, limit: 1 << 20)
    },
    "config": { bytes in
        _ = try? ConfigLoader(environment: [:]).load(text: String(decoding: bytes, as: UTF8.self), file: "herald.yaml")
    },
    "rules": { bytes in
        _ = try? RuleLoader(config: ruleConfig).load(files: [(path: "fuzz.yaml", text: String(decoding: bytes, as: UTF8.self))])
    },
    // Slack's form bodies once the signature holds: an interaction's payload, its alert form, a slash command.
    "slack": { bytes in
        let form = FormBody.parse(bytes)
        if let payload = form["payload"], let interaction = SlackInteraction(payload: payload) {
            _ = interaction.actions?.first.flatMap { IssueAction.parse(value: $0.value ?? "") }
            _ = interaction.view.flatMap(SlackAlertForm.Submission.init)
        }
        _ = SlashCommandRequest(form: form).command
    },
    "mattermost": { bytes in
        if let action = MattermostAction(body: bytes) {
            _ = IssueAction(action.context.selectedOption ?? action.context.action)
        }
    },
    "button": { bytes in
        let text = String(decoding: bytes, as: UTF8.self)
        _ = IssueAction.parse(value: text)
        _ = IssueAction(text)
        _ = ChatCommand(text: text)
    },
    // An ID token from a provider's token endpoint, checked against a key set; the first byte picks whether
    // the rest is the token or the key set (with a fixed token-shaped input).
    "id-token": { bytes in
        let text = String(decoding: bytes.dropFirst(), as: UTF8.self)
        if bytes.first.map({ $0 & 1 == 0 }) ?? true {
            _ = try? IDTokenVerifier(issuer: "https://id.example.com", clientID: "herald").verify(text, keys: fuzzKeys, nonce: "n")
        } else {
            _ = try? JSONWebKeySet(json: Data(bytes.dropFirst()))
        }
    },
    // The console's query strings and forms, and the cookie values it verifies.
    "console": { bytes in
        let form = FormBody.parse(bytes)
        _ = try? IssueListRequest(parameters: form)
        _ = FormBody.pairs(bytes)
        _ = fuzzSecrets.verified(String(decoding: bytes, as: UTF8.self))
        _ = Base64URL.decode(String(decoding: bytes, as: UTF8.self))
    },
]

/// A key set with one RSA key, as a provider's `jwks_uri` serves it (the key is a test key of RFC 7517 A.1).
private let fuzzKeys = try! JSONWebKeySet(json: Data("""
    {"keys": [{"kty": "RSA", "kid": "2011-04-29", "alg": "RS256", "e": "AQAB",
      "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}]}
    """.utf8))
private let fuzzSecrets = ConsoleSecrets(key: Array(repeating: 7, count: 32))

private let target: @Sendable ([UInt8]) -> Void = {
    let name = ProcessInfo.processInfo.environment["HERALD_FUZZ_TARGET"] ?? ""
    guard let target = targets[name] else {
        FileHandle.standardError.write(Data(
            "set HERALD_FUZZ_TARGET to one of: \(targets.keys.sorted().joined(separator: ", "))\n".utf8))
        exit(64)
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    target(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
