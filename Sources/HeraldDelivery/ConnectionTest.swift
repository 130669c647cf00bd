import Foundation
import HeraldChat
import HeraldConfig
import HeraldCore
import HeraldHTTP
import HeraldRules
import HeraldStore

/// `herald test-connection`: one test message to a Slack workspace, Mattermost connector or webhook, with the
/// platform's exact answer, so an admin sees at once whether a token, a channel or a URL works.
public struct ConnectionTest: Sendable {
    public let platforms: ChatPlatforms

    public init(config: Config, http: HTTPClient, signer: ButtonSigner = ButtonSigner(key: [])) {
        platforms = ChatPlatforms(config: config, http: http, signer: signer)
    }

    /// Sends the test message. `kind` picks among targets of the same name.
    public func run(target name: String, kind: DeliveryKind? = nil, channel: String? = nil)
        async throws(ConnectionTestProblem) -> ConnectionReport
    {
        let matching = platforms.named(name, kind: kind)
        guard let platform = matching.first else {
            throw .unknownTarget(name, known: platforms.all.map { "\($0.target) (\($0.kind.rawValue))" })
        }
        guard matching.count == 1 else { throw .ambiguous(name) }
        let text = "Herald can post here: `herald test-connection \(name)` at \(Timestamp.text(Date()))."
        return try await platform.testConnection(channel: channel, text: text)
    }
}
