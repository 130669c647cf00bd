import ArgumentParser
import Foundation
import HeraldChat
import HeraldCore
import HeraldDelivery
import HeraldHTTP
import HeraldRules
import HeraldStore

struct NotifyTest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "notify-test",
        abstract: "Send a rule's real message, for a sample or given event, to every place the rule names.")

    @OptionGroup var options: RuleOptions

    @Option(help: "The rule, by name.")
    var rule: String

    @Option(help: "The project, when several projects have a rule of that name.")
    var project: String?

    @Option(help: "An event as JSON (Sentry's or Herald's format); default: a sample that fills the rule's tags.")
    var event: String?

    func run() async throws {
        let config = try options.config.load()
        let ruleSet = try options.ruleSet()
        let matching = ruleSet.rules.filter {
            $0.name.caseInsensitiveCompare(rule) == .orderedSame && (project == nil || $0.project == project)
        }
        guard let found = matching.first else {
            throw failure("no rule named '\(rule)'\(project.map { " in project \($0)" } ?? "")")
        }
        guard matching.count == 1 else {
            throw failure("projects \(matching.map(\.project).joined(separator: ", ")) each have a rule '\(rule)'; add --project")
        }
        var sample = HeraldDelivery.NotifyTest.sampleEvent(for: found)
        if let event {
            do {
                sample = try JSONDecoder().decode(Event.self, from: try readFile(event))
            } catch {
                throw failure("\(event): error: not an event: \(error)")
            }
        }
        let store = try Store(path: config.storage.sqlite)
        let http = config.httpClient()
        defer { http.shutdown() }
        let courier = Courier(config: config, http: http, signer: ButtonSigner(key: try store.callbackKey()))
        var failures = 0
        for result in await HeraldDelivery.NotifyTest(courier: courier).send(rule: found, event: sample) {
            let place = "\(result.delivery.kind.rawValue) \(result.delivery.target)\(result.delivery.channel.map { " " + $0 } ?? "")"
            switch result.outcome {
            case .delivered(let handle, _, _):
                print("\(place): sent\(handle.map { " (channel \($0.channelID), message \($0.ref))" } ?? "")")
            case .failed(let failure, _):
                failures += 1
                print("\(place): failed: \(failure)")
            }
        }
        if failures > 0 { throw ExitCode(1) }
    }
}
