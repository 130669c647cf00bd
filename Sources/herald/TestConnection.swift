import ArgumentParser
import Foundation
import HeraldChat
import HeraldCore
import HeraldDelivery
import HeraldHTTP

struct TestConnection: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test-connection",
        abstract: "Send a test message to a Slack workspace, Mattermost connector or webhook and print the exact answer.")

    @OptionGroup var options: ConfigOptions

    @Argument(help: "The workspace, connector or webhook, by its name in the config.")
    var target: String

    @Option(help: "The channel to post to (default: the target's fallback_channel).")
    var channel: String?

    @Option(help: "slack, mattermost or webhook, when several targets share the name.")
    var kind: DeliveryKind?

    func run() async throws {
        let config = try options.load()
        let http = config.httpClient()
        defer { http.shutdown() }
        let report: ConnectionReport
        do {
            report = try await ConnectionTest(config: config, http: http).run(target: target, kind: kind, channel: channel)
        } catch {
            throw failure("herald: \(error)")
        }
        for exchange in report.exchanges {
            print(exchange.request)
            if let status = exchange.status {
                print("HTTP \(status)")
                print(exchange.body)
            } else {
                print("no answer: \(exchange.error ?? "unknown error")")
            }
        }
        let target = "\(report.kind.rawValue) \(report.target)"
        print(report.succeeded ? "ok: \(target) accepted the test message" : "failed: \(target) did not accept the test message")
        if !report.succeeded { throw ExitCode(1) }
    }
}

extension DeliveryKind: ExpressibleByArgument {}
