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
    }
}
