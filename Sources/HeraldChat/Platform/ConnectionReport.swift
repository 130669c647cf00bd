import HeraldCore
import HeraldHTTP

/// What `herald test-connection` shows: every request it made and the platform's exact answer.
public struct ConnectionReport: Sendable {
    /// One request and its answer as received.
    public struct Exchange: Sendable {
        public var request: String
        public var status: Int?
        public var body: String
        /// The transport error, when there was no answer.
        public var error: String?

        /// Sends, and keeps whatever came back.
        static func capture(_ request: String, _ send: () async throws -> HTTPClient.Response) async -> Exchange {
            do {
                let response = try await send()
                return Exchange(request: request, status: response.status, body: response.text, error: nil)
            } catch {
                return Exchange(request: request, status: nil, body: "", error: String(describing: error))
            }
        }

        var isSuccess: Bool { status.map { (200..<300).contains($0) } ?? false }
    }

    public var kind: DeliveryKind
    public var target: String
    public var exchanges: [Exchange]
    public var succeeded: Bool
}

/// Why `herald test-connection` could not send anything.
public enum ConnectionTestProblem: Error, CustomStringConvertible {
    case unknownTarget(String, known: [String])
    case ambiguous(String)
    case needsChannel(String)

    public var description: String {
        switch self {
        case .unknownTarget(let name, let known):
            "no Slack workspace, Mattermost connector or webhook named '\(name)'; the config has: \(known.joined(separator: ", "))"
        case .ambiguous(let name):
            "'\(name)' names more than one target; add --kind slack, mattermost or webhook"
        case .needsChannel(let name):
            "'\(name)' has no fallback_channel to post to; give --channel"
        }
    }
}
