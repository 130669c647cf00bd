import Foundation
import HeraldTestSupport
import Synchronization

/// Drives a Herald server with envelopes and measures what each answer took.
enum IngestLoad {
    static let connections = 32
    static let distinctIssues = 1_000

    struct Result {
        var events: Int
        var elapsed: Duration
        var latencies: LatencyHistogram
        /// Resident memory of this process (server and driver) after the first 100,000 events (or half the
        /// run, if shorter) and 1,000 events before the end, both under full load.
        var residentAfterWarmup: Int
        var residentAtEnd: Int
        /// Slack messages the chat double received during the run.
        var deliveries: Int

        var eventsPerSecond: Double { Double(events) / (elapsed.microseconds / 1e6) }

        func latency(percentile: Double) -> Duration { latencies.percentile(percentile) }
    }

    /// 100 rules on the payments project: first-seen and regression alerts, counter triggers, per-event
    /// rules behind tag and regex filters; each posts to a Slack channel.
    static func rules() -> String {
        var text = "project: payments\nrules:\n"
        for number in 0..<100 {
            text += "  - name: rule \(number)\n"
            if number % 2 == 0 { text += "    environment: production\n" }
            switch number % 5 {
            case 0: text += "    when: [first_seen, regression]\n"
            case 1: text += "    when: [{frequency: {count: \(500 + number), interval: 1h}}]\n"
            case 2: text += "    when: [{unique_users: {count: \(50 + number), interval: 15m}}]\n"
            case 3: text += "    when: [every_event]\n"
            default: text += "    when: [reappeared, {frequency_change: {percent: 300, interval: 1h, compared_to: 1d}}]\n"
            }
            text += "    if:\n      - level: {gte: error}\n"
            text += "      - tag: {key: region, eq: region-\(number % 10)}\n"
            if number % 3 == 0 { text += "      - attribute: {name: exception.type, matches: \"^(Timeout|Value)Error$\"}\n" }
            text += "    frequency: 30m\n"
            text += "    then:\n      - slack: {workspace: acme, channels: [\"#team-\(number % 20)\"], tags: [region]}\n"
        }
        return text
    }

    /// The requests, prepared once per issue with a placeholder event id, so the driver spends its share
    /// of the two cores on sending rather than on building JSON.
    struct Requests {
        static let placeholder = Array(String(repeating: "f", count: 32).utf8)
        private var templates: [[UInt8]] = []
        private var idOffsets: [[Int]] = []

        init() {
            for issue in 0..<distinctIssues { add(issue: String(issue)) }
        }

        private mutating func add(issue: String) {
            let id = String(repeating: "f", count: 32)
            let event = Envelope.errorEvent(
                id: id, type: issue.hasSuffix("7") ? "TimeoutError" : "ValueError", value: "order \(issue) failed",
                function: "handler_\(issue)", lineno: issue.count * 17,
                tags: #"{"region":"region-\#(issue.utf8.last! % 10)","customer_tier":"free"}"#,
                user: "user-\(issue)")
            let body = Envelope.build(
                header: #"{"event_id":"\#(id)","sent_at":"2026-11-23T10:00:00Z"}"#, items: [("event", event)])
            let bytes = HTTPTestRequest(
                "POST", "/api/1/envelope/",
                headers: [("X-Sentry-Auth", "Sentry sentry_key=pk-1, sentry_version=7, sentry_client=sentry.python/2.75.0"),
                          ("Content-Type", "application/x-sentry-envelope")],
                body: body
            ).encoded(keepAlive: true)
            var offsets: [Int] = []
            var index = 0
            while index + 32 <= bytes.count {
                if bytes[index..<index + 32].elementsEqual(Self.placeholder) {
                    offsets.append(index)
                    index += 32
                } else {
                    index += 1
                }
            }
            templates.append(bytes)
            idOffsets.append(offsets)
        }

        /// The `index`th request: one recurring issue, or every hundredth time a new one.
        func request(_ index: Int, into bytes: inout [UInt8]) {
            let issue = (index &* 7_919) % distinctIssues
            bytes = templates[issue]
            var id = Array(repeating: UInt8(ascii: "0"), count: 32)
            var value = index
            for position in stride(from: 31, through: 16, by: -1) {
                id[position] = Self.hex[value & 15]
                value >>= 4
            }
            for offset in idOffsets[issue] { bytes.replaceSubrange(offset..<offset + 32, with: id) }
            if index % 100 == 0 {
                // A new issue: its own fingerprint, in place of the handler's name digits.
                let marker = Array(#""function":"handler_"#.utf8)
                if let at = bytes.firstRange(of: marker) {
                    bytes.replaceSubrange(at.upperBound..<at.upperBound, with: Array("new\(index)_".utf8))
                    Self.fixContentLength(&bytes, growth: "new\(index)_".utf8.count)
                }
            }
        }

        /// Adds `growth` to the Content-Length header and to the event item's length.
        private static func fixContentLength(_ bytes: inout [UInt8], growth: Int) {
            for name in ["Content-Length: ", #""length":"#] {
                guard let at = bytes.firstRange(of: Array(name.utf8)) else { continue }
                var end = at.upperBound
                while end < bytes.count, bytes[end] >= 48, bytes[end] <= 57 { end += 1 }
                let value = Int(String(decoding: bytes[at.upperBound..<end], as: UTF8.self))! + growth
                bytes.replaceSubrange(at.upperBound..<end, with: Array(String(value).utf8))
            }
        }

        private static let hex = Array("0123456789abcdef".utf8)
    }

    static func run(events: Int) async throws -> Result {
        // Delivery runs as in `herald serve`: the rules' Slack messages go to the chat double.
        let chat = try await ChatDouble(
            slack: ["acme": (token: "xoxb-acme", channels: (0..<20).map { "team-\($0)" })], recordsBodies: false)
        let directory = TemporaryDirectory()
        // One event in a hundred opens an issue: about 3,000 a minute at full speed, past the default
        // new-issue limit (600 a minute), which this benchmark is not about.
        let config = RunningServer.configYAML(directory: directory.path, chat: chat).replacingOccurrences(
            of: "  port: 0", with: "  port: 0\n  new_issues: {per_minute: 1000000, burst: 100000}")
        let server = try await RunningServer(rules: ["payments.yaml": rules()], configYAML: config, directory: directory)
        let requests = Requests()
        let next = Counter()
        let clock = ContinuousClock()
        let warmup = min(100_000, events / 2)
        let residentAfterWarmup = Reading()
        let residentNearEnd = Reading()
        let started = clock.now
        let latencies = try await withThrowingTaskGroup(of: LatencyHistogram.self) { group in
            for _ in 0..<connections {
                group.addTask {
                    let connection = try await HTTPTestConnection(port: server.port)
                    var latencies = LatencyHistogram()
                    var bytes: [UInt8] = []
                    while true {
                        let index = next.take()
                        guard index < events else { break }
                        if index == warmup { residentAfterWarmup.set(residentBytes()) }
                        if index == events - 1_000 { residentNearEnd.set(residentBytes()) }
                        requests.request(index, into: &bytes)
                        let sent = clock.now
                        try await connection.write(bytes)
                        let response = try await connection.readResponse()
                        latencies.record(clock.now - sent)
                        guard response.status == 200 else { throw LoadFailure(status: response.status, body: response.text) }
                    }
                    await connection.close()
                    return latencies
                }
            }
            return try await group.reduce(into: LatencyHistogram()) { $0.merge($1) }
        }
        let elapsed = clock.now - started
        try await server.stop()
        let deliveries = chat.messageCount
        try await chat.stop()
        return Result(
            events: events, elapsed: elapsed, latencies: latencies,
            residentAfterWarmup: residentAfterWarmup.value, residentAtEnd: residentNearEnd.value, deliveries: deliveries)
    }

    struct LoadFailure: Error {
        var status: Int
        var body: String
    }

    /// This process's resident memory, from /proc.
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        return fields.count > 1 ? (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
    }
}

/// One measurement, taken by whichever connection gets there.
final class Reading: Sendable {
    private let stored = Mutex(0)

    func set(_ newValue: Int) { stored.withLock { $0 = newValue } }
    var value: Int { stored.withLock { $0 } }
}

/// Hands out request numbers to the connections.
final class Counter: Sendable {
    private let value = Mutex(0)

    func take() -> Int {
        value.withLock { value in
            defer { value += 1 }
            return value
        }
    }
}

/// Latencies in 10 µs buckets up to one second: a fixed 800 KB however many requests, so the driver's own
/// memory does not grow with the run it measures.
struct LatencyHistogram: Sendable {
    static let bucketMicroseconds = 10
    private var counts = [Int](repeating: 0, count: 100_001)
    private(set) var total = 0

    mutating func record(_ latency: Duration) {
        let bucket = Int(latency.microseconds) / Self.bucketMicroseconds
        counts[min(bucket, counts.count - 1)] += 1
        total += 1
    }

    mutating func merge(_ other: LatencyHistogram) {
        for index in counts.indices { counts[index] += other.counts[index] }
        total += other.total
    }

    /// The upper edge of the bucket holding the given percentile.
    func percentile(_ percentile: Double) -> Duration {
        let rank = Int((Double(total) * percentile / 100).rounded(.up))
        var seen = 0
        for (bucket, count) in counts.enumerated() {
            seen += count
            if seen >= max(rank, 1) { return .microseconds((bucket + 1) * Self.bucketMicroseconds) }
        }
        return .seconds(1)
    }
}
