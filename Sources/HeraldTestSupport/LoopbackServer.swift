import Hummingbird
import Logging
import ServiceLifecycle

/// A router served on a free loopback port, quietly: what test doubles and test servers run on.
public final class LoopbackServer: Sendable {
    public let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    public init<Builder: HTTPResponderBuilder>(router: Builder) async
    where Builder.Responder.Context: InitializableFromSource<ApplicationRequestContextSource> {
        var logger = Logger(label: "loopback-server")
        logger.logLevel = .critical
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let application = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { continuation.yield($0.localAddress?.port ?? 0) }, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [application], logger: logger))
        self.group = group
        task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        port = await iterator.next() ?? 0
    }

    /// Stops accepting, finishes requests in progress, and returns when the server is down.
    public func stop() async throws {
        await group.triggerGracefulShutdown()
        try await task.value
    }
}
