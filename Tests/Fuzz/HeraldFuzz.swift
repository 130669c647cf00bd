// libFuzzer entry points for every decoder Herald runs on bytes from outside. One binary holds them all;
// `HERALD_FUZZ_TARGET` picks one (see `Tests/Fuzz/run.sh`, which builds it with `--sanitize=fuzzer`).
//
// A target passes when its decoder returns or throws for any input. A crash, a trap, a hang past libFuzzer's
// timeout or memory past its limit is a finding, saved by libFuzzer as a crash file; each one fixed becomes a
// regression test in the suite.

import Foundation
import HeraldChat
import HeraldConfig
import HeraldCore
import HeraldRules
@testable import HeraldServer

/// The project events are read for: what the ingest routes pass once a key has been checked.
private let project = Config.Project(id: 1, slug: "payments", keys: [Secret("k")])

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
    "ingest-herald": { bytes in _ = try? IngestRoutes.parse(bytes, endpoint: .herald, project: project) },
    "ingest-store": { bytes in _ = try? IngestRoutes.parse(bytes, endpoint: .store, project: project) },
    "ingest-envelope": { bytes in _ = try? IngestRoutes.parse(bytes, endpoint: .envelope, project: project) },
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
]

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
