import ArgumentParser
import Foundation
import HeraldRules

struct Explain: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show which rules an event matches, why the others do not, and where it would be sent.")

    @OptionGroup var options: RuleOptions

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @Argument(help: "An event as JSON, with \"project\" and optionally \"issue\" (see docs/rules.md).")
    var input: String

    func run() throws {
        let ruleSet = try options.ruleSet()
        let explainInput: ExplainInput
        do {
            explainInput = try ExplainInput(json: try readFile(input))
        } catch let error as ExplainInput.InvalidInput {
            throw failure("\(input): error: \(error)")
        }
        let explanation = RuleEngine(ruleSet: ruleSet).explain(explainInput.event, context: explainInput.context)
        print(json ? explanation.json : explanation.text)
        guard !json else { return }
        // A channel taken from the event may not exist; say where such a message would really go.
        let config = try options.config.load()
        for delivery in explanation.deliveries where delivery.channelTemplate != nil {
            guard let channel = delivery.channel else { continue }
            let fallback: String? = switch delivery.kind {
            case .slack: config.slackWorkspace(named: delivery.target)?.fallbackChannel
            case .mattermost: config.mattermostConnector(named: delivery.target)?.fallbackChannel
            case .webhook: nil
            }
            print("note: \(channel) on \(delivery.kind.rawValue) \(delivery.target) comes from the event; "
                + (fallback.map { "if it does not exist, the message goes to \($0) (fallback_channel)" }
                    ?? "if it does not exist, the delivery fails: the target has no fallback_channel"))
        }
    }
}
