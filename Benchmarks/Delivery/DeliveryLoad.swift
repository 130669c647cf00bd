import Foundation
import HeraldConfig
import HeraldCore
import HeraldServer
import HeraldStore
import HeraldTestSupport
import Logging
import ServiceLifecycle

/// Fills an outbox with alerts for 1,000 Slack channels across three workspaces of the chat double, then
/// lets the dispatcher drain it, and reads the result off the double.
enum DeliveryLoad {
    static let workspaces = ["acme", "globex", "initech"]
    static let channels = 1_000

    struct Result {
        var deliveries: Int
        var elapsed: Duration
        /// Runs of messages to one channel that arrived closer together than the bucket allows (burst + span /
        /// interval), allowing 0.25 s: arrival times include the time a message of a 3,000-message burst
        /// waited for a connection, so the first of a run can arrive late and its successor on time.
        var pacingViolations: Int
        /// The most messages one channel received within one second.
        var mostInOneSecond: Int

        var deliveriesPerSecond: Double { Double(deliveries) / seconds(elapsed) }
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// `messagesPerChannel` alerts for each channel, each its own issue, so every one is a first message.
    static func run(messagesPerChannel: Int, burst: Int, interval: Double) async throws -> Result {
        var slack: [String: (token: String, channels: [String])] = [:]
        var channelsOf: [String: [String]] = [:]
        for (index, workspace) in workspaces.enumerated() {
            let names = stride(from: index, to: channels, by: workspaces.count).map { "ch-\($0)" }
            slack[workspace] = ("xoxb-\(workspace)", names)
            channelsOf[workspace] = names
        }
        let chat = try await ChatDouble(slack: slack)
        let directory = TemporaryDirectory()
        let rules = "project: payments\nrules:\n" + workspaces.map { workspace in
            """
              - name: Alerts for \(workspace)
                when: [first_seen]
                if:
                  - tag: {key: workspace, eq: \(workspace)}
                then:
                  - slack: {workspace: \(workspace), channels: ["#{{ tags.channel }}"], tags: [region, customer]}

            """
        }.joined()
        directory.write("rules/payments.yaml", rules)
        let config = try ConfigLoader(environment: [:]).load(text: """
            projects:
              - {id: 1, slug: payments, keys: [pk-1]}
            slack:
              workspaces:
            \(workspaces.map { "    - {name: \($0), token: xoxb-\($0), api_url: \"\(chat.slackURL)\"}" }.joined(separator: "\n"))
            storage:
              sqlite: \(directory.path)/herald.sqlite
            server:
              public_url: https://herald.example.com
            delivery:
              channel_burst: \(burst)
              channel_interval_seconds: \(interval)
            """, file: "herald.yaml")
        var logger = Logger(label: "delivery-benchmark")
        logger.logLevel = .warning
        let server = try HeraldServer(
            config: config, options: ServerOptions(rulesDirectory: directory.path + "/rules", logger: logger))

        // The outbox, written before delivery starts: one event (and issue) per message.
        var batch: [IncomingEvent] = []
        var number = 0
        for round in 0..<messagesPerChannel {
            for workspace in workspaces {
                for channel in channelsOf[workspace]! {
                    number += 1
                    var event = Event(
                        eventID: String(format: "%032x", number), level: .error, release: "2.3.\(round)",
                        environment: "production", message: "Payment \(number) failed: card declined by issuer",
                        tags: [Event.Tag("workspace", workspace), Event.Tag("channel", channel),
                               Event.Tag("region", "eu-west-1"), Event.Tag("customer", "enterprise")])
                    event.fingerprint = ["issue-\(number)"]
                    let payload = Data(#"{"message":"Payment \#(number) failed: card declined by issuer","level":"error","environment":"production","release":"2.3.\#(round)","tags":{"region":"eu-west-1","customer":"enterprise"}}"#.utf8)
                    batch.append(IncomingEvent(
                        projectID: 1, projectSlug: "payments", event: event, grouping: Grouping(event: event), payload: payload))
                    if batch.count == 1_000 {
                        _ = try await server.store.ingest(batch, engine: server.rules.engine)
                        batch = []
                    }
                }
            }
        }
        if !batch.isEmpty { _ = try await server.store.ingest(batch, engine: server.rules.engine) }
        let expected = number
        let queued = try await server.store.outboxDepth()
        precondition(queued == expected, "every event queues one delivery, but \(queued) of \(expected) did")

        let group = ServiceGroup(configuration: .init(services: [server.dispatcher], logger: logger))
        let started = ContinuousClock.now
        let task = Task { try await group.run() }
        while chat.messageCount < expected {
            try await Task.sleep(for: .milliseconds(5))
        }
        let elapsed = ContinuousClock.now - started
        await group.triggerGracefulShutdown()
        try await task.value

        // Pacing, from the arrival times the double recorded, channel by channel.
        var times: [String: [ContinuousClock.Instant]] = [:]
        for request in chat.requests { times[request.channelID ?? "?", default: []].append(request.at) }
        var violations = 0
        var mostInOneSecond = 0
        for list in times.values {
            let sorted = list.sorted()
            for first in sorted.indices {
                var inSecond = 0
                for last in sorted.indices where last >= first {
                    let span = seconds(sorted[last] - sorted[first])
                    if span < 1 { inSecond += 1 }
                    let allowed = Double(burst) + (span + 0.25) / interval
                    if Double(last - first + 1) > allowed.rounded(.down) { violations += 1 }
                }
                mostInOneSecond = max(mostInOneSecond, inSecond)
            }
        }
        try await chat.stop()
        return Result(deliveries: expected, elapsed: elapsed, pacingViolations: violations, mostInOneSecond: mostInOneSecond)
    }
}
