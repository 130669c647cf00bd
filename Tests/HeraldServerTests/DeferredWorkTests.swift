import Foundation
@testable import HeraldServer
import Logging
import ServiceLifecycle
import Synchronization
import Testing

/// Work a route starts after answering (a Slack click) is a child of the `DeferredWork` service: shutdown
/// waits for it and takes nothing new.
@Suite struct DeferredWorkTests {
    /// What happened, in order.
    final class Journal: Sendable {
        private let entries = Mutex<[String]>([])
        func note(_ entry: String) { entries.withLock { $0.append(entry) } }
        var all: [String] { entries.withLock { $0 } }
    }

    @Test func shutdownWaitsForARunningJobAndRefusesNewOnes() async throws {
        let work = DeferredWork()
        let group = ServiceGroup(configuration: .init(services: [work], logger: Logger(label: "test")))
        let journal = Journal()
        let (started, startedSignal) = AsyncStream.makeStream(of: Void.self)
        let (release, releaseSignal) = AsyncStream.makeStream(of: Void.self)
        let running = Task {
            try await group.run()
            journal.note("service returned")
        }
        #expect(work.run {
            startedSignal.yield()
            for await _ in release { break }
            journal.note("job finished")
        })
        for await _ in started { break }

        await group.triggerGracefulShutdown()
        // Once the service has seen the shutdown, new work is refused; work it accepted before still runs.
        var accepted = 0
        var refused = false
        for _ in 0..<1_000 where !refused {
            refused = !work.run { journal.note("accepted late") }
            if !refused {
                accepted += 1
                try await Task.sleep(for: .milliseconds(5))
            }
        }
        #expect(refused)
        // The first job still holds the service open: give a wrong implementation a full second to return early.
        try? await Task.sleep(for: .seconds(1))
        #expect(!journal.all.contains("service returned"))
        releaseSignal.yield()
        try await running.value
        let entries = journal.all
        #expect(entries.filter { $0 == "accepted late" }.count == accepted)
        #expect(entries.suffix(2) == ["job finished", "service returned"])
    }
}
