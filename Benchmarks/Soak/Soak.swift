// A soak: a real `herald serve` under mixed load for a long stretch, killed with SIGKILL half-way and started
// again on the same files, while the chat platforms fail a share of calls and rate-limit at times. It reports
// events lost (acknowledged with 200, missing from their issue's count), messages posted twice, resident
// memory at the start and end of each half, and latency percentiles per half.
//
//   HERALD_BENCHMARKS=1 swift build -c release --scratch-path .build-benchmarks --product HeraldSoak
//   .build-benchmarks/release/HeraldSoak --herald .build/release/herald [--minutes 30] [--events-per-second 100]
//
// The load: events over kept-alive connections at a steady rate (one in a hundred opens a new issue, the
// rest repeat one of the issues so far; each issue belongs to one of 20 teams, each team has its channel);
// a signed Slack button click every second on a message Herald posted (resolve, unresolve, ignore,
// acknowledge); and a rule reload every minute. The chat double answers
// 5% of calls 500 and 2% 429, and every three minutes rate-limits the next forty calls in a row.

import Crypto
import Foundation
import HeraldTestSupport
import Synchronization

struct Options {
    var herald = ".build/release/herald"
    var minutes = 30.0
    var eventsPerSecond = 100.0

    init(_ arguments: [String]) throws {
        var rest = arguments.dropFirst()
        while let flag = rest.popFirst() {
            guard let value = rest.popFirst() else { throw Usage("\(flag) needs a value") }
            switch flag {
            case "--herald": herald = value
            case "--minutes":
                guard let number = Double(value), (1...600).contains(number) else { throw Usage("--minutes: 1 to 600") }
                minutes = number
            case "--events-per-second":
                guard let number = Double(value), (1...5_000).contains(number) else {
                    throw Usage("--events-per-second: 1 to 5000")
                }
                eventsPerSecond = number
            default: throw Usage("unknown option \(flag)")
            }
        }
    }
}

struct Usage: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// What one half of the run saw.
struct Phase: Sendable {
    var events = Latencies()
    var clicks = Latencies()
    var reloads = Latencies()
    var refused = 0
    var connectionErrors = 0
    var residentAtStart = 0
    var residentAtEnd = 0
}

/// Latencies in milliseconds, kept whole: a run holds at most a few hundred thousand.
struct Latencies: Sendable {
    private(set) var values: [Double] = []
    mutating func record(_ duration: Duration) {
        values.append(Double(duration.components.seconds) * 1_000 + Double(duration.components.attoseconds) / 1e15)
    }
    func percentile(_ p: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p / 100).rounded(.up)) - 1)]
    }
    var count: Int { values.count }
}

/// The shared tallies of the run.
final class Tally: Sendable {
    let phases = Mutex<[Phase]>([Phase(), Phase()])
    let current = Atomic<Int>(0)
    /// Events answered 200, by issue number.
    let acknowledged = Mutex<[Int: Int]>([:])
    let issuesOpened = Atomic<Int>(0)

    func update(_ change: (inout Phase) -> Void) {
        let index = current.load(ordering: .relaxed)
        phases.withLock { change(&$0[index]) }
    }
}

/// The running server: restarted in place after the kill.
final class Server: Sendable {
    let port: Int
    let directory: TemporaryDirectory
    let herald: String
    let process = Mutex<ChildProcess?>(nil)

    init(herald: String, directory: TemporaryDirectory, port: Int) {
        self.herald = herald
        self.directory = directory
        self.port = port
    }

    func start() async throws {
        let child = try ChildProcess(
            herald, ["serve", "--config", directory.path + "/herald.yaml", "--rules", directory.path + "/rules",
                     "--log-level", "error"],
            directory: directory.path)
        process.withLock { $0 = child }
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let health = try? await HTTPTestRequest("GET", "/healthz").send(port: port), health.status == 200 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw Usage("herald did not come up within 60 s:\n\(child.text)")
    }

    func kill() async {
        guard let child = process.withLock({ $0 }) else { return }
        child.signal(SIGKILL)
        _ = await child.waitForExit()
    }

    func stop() async -> Int32 {
        guard let child = process.withLock({ $0 }) else { return -1 }
        child.signal(SIGTERM)
        return await child.result(within: .seconds(60)).status
    }

    /// Resident memory of the server process, in bytes.
    var resident: Int {
        guard let pid = process.withLock({ $0?.processIdentifier }),
            let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kilobytes * 1_024
    }

    func admin(_ path: String, method: String = "GET") async throws -> HTTPTestResponse {
        try await HTTPTestRequest(method, path, headers: [("Authorization", "Bearer \(RunningServer.adminToken)")])
            .send(port: port)
    }
}

func rules(version: Int) -> String {
    """
    project: payments
    rules:
      - name: New payment failures (version \(version))
        when: [first_seen, regression]
        then:
          - slack: {workspace: acme, channels: ["#team-{{ tags.team }}"]}
          - slack: {workspace: globex, channels: ["#team-{{ tags.team }}"]}
          - mattermost: {connector: ops, channels: ["team-{{ tags.team }}"]}
      - name: Busy failures
        when: [{frequency: {count: 200, interval: 1h}}]
        frequency: 30m
        then:
          - slack: {workspace: acme, channels: ["#oncall"]}
    """
}

/// A free loopback port: bound, read and released.
func freePort() throws -> Int {
    let socket = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
            bind(socket, address, length) == 0 && getsockname(socket, address, &length) == 0
        }
    }
    guard bound else { throw Usage("no free port") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// One worker's share of the events, on a kept-alive connection opened again after any failure.
func sendEvents(server: Server, tally: Tally, perSecond: Double, until end: ContinuousClock.Instant) async {
    var connection: HTTPTestConnection?
    let interval = Duration.seconds(1 / perSecond)
    var next = ContinuousClock.now
    while ContinuousClock.now < end {
        next += interval
        let opened = tally.issuesOpened.load(ordering: .relaxed)
        let issue: Int
        if opened == 0 || Int.random(in: 0..<100) == 0 {
            issue = tally.issuesOpened.wrappingAdd(1, ordering: .relaxed).newValue
        } else {
            issue = Int.random(in: 1...opened)
        }
        let request = HTTPTestRequest(
            "POST", "/api/v1/events", headers: [("Authorization", "Bearer pk-1")],
            json: #"{"message": "soak issue \#(issue)", "level": "error", "fingerprint": ["soak-\#(issue)"], "#
                + #""tags": {"region": "\#(["eu", "us", "ap"][issue % 3])", "team": "\#(issue % teams)"}, "#
                + #""user": {"id": "u\#(Int.random(in: 1...500))"}}"#)
        let start = ContinuousClock.now
        do {
            if connection == nil { connection = try await HTTPTestConnection(port: server.port) }
            let response = try await connection!.send(request)
            let took = ContinuousClock.now - start
            if response.status == 200 {
                tally.acknowledged.withLock { $0[issue, default: 0] += 1 }
                tally.update { $0.events.record(took) }
            } else {
                tally.update { $0.refused += 1 }
            }
        } catch {
            await connection?.close()
            connection = nil
            tally.update { $0.connectionErrors += 1 }
        }
        let now = ContinuousClock.now
        if next > now { try? await Task.sleep(until: next, clock: .continuous) } else { next = now }
    }
    await connection?.close()
}

/// The button values on the Slack messages Herald posted to acme, newest messages last.
func buttonValues(_ chat: ChatDouble) -> [String] {
    chat.messages.suffix(200).filter { $0.workspace == "acme" && $0.threadRef == nil }.flatMap { message -> [String] in
        let blocks = message.json["blocks"] as? [[String: Any]] ?? []
        return blocks.flatMap { block in
            (block["elements"] as? [[String: Any]] ?? []).flatMap { element -> [String] in
                var values = [element["value"] as? String].compactMap { $0 }
                values += (element["options"] as? [[String: Any]] ?? []).compactMap { $0["value"] as? String }
                return values
            }
        }
    }
}

/// A signed block_actions request, as Slack sends a click.
func click(value: String, chat: ChatDouble) -> HTTPTestRequest {
    let payload: [String: Any] = [
        "type": "block_actions", "user": ["id": "U0ALICE", "username": "alice", "team_id": "T0ACME"],
        "team": ["id": "T0ACME", "domain": "acme"], "api_app_id": "A0HERALD",
        "container": ["type": "message", "message_ts": "1700000000.000001", "channel_id": "CACME1"],
        "response_url": chat.slackResponseURL(UUID().uuidString), "trigger_id": "1.2.3",
        "actions": [["action_id": "act", "block_id": "herald", "type": "button", "value": value,
                     "action_ts": UUID().uuidString]],
    ]
    let json = String(decoding: try! JSONSerialization.data(withJSONObject: payload), as: UTF8.self)
    let body = "payload=" + json.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
    let timestamp = Int(Date().timeIntervalSince1970)
    let code = HMAC<SHA256>.authenticationCode(
        for: Data("v0:\(timestamp):\(body)".utf8), using: SymmetricKey(data: Data("signing".utf8)))
    return HTTPTestRequest(
        "POST", "/slack/interactions",
        headers: [
            ("Content-Type", "application/x-www-form-urlencoded"), ("X-Slack-Request-Timestamp", String(timestamp)),
            ("X-Slack-Signature", "v0=" + code.map { String(format: "%02x", $0) }.joined()),
        ],
        body: Array(body.utf8))
}

func sendClicks(server: Server, chat: ChatDouble, tally: Tally, until end: ContinuousClock.Instant) async {
    while ContinuousClock.now < end {
        try? await Task.sleep(for: .seconds(1))
        let values = buttonValues(chat).filter { !$0.contains("assign") }
        guard let value = values.randomElement() else { continue }
        let start = ContinuousClock.now
        if let response = try? await click(value: value, chat: chat).send(port: server.port), response.status == 200 {
            tally.update { $0.clicks.record(ContinuousClock.now - start) }
        } else {
            tally.update { $0.connectionErrors += 1 }
        }
    }
}

func reloadRules(server: Server, tally: Tally, until end: ContinuousClock.Instant) async {
    var version = 1
    while ContinuousClock.now < end {
        try? await Task.sleep(for: .seconds(60))
        version += 1
        server.directory.write("rules/payments.yaml", rules(version: version))
        let start = ContinuousClock.now
        if let response = try? await server.admin("/-/reload", method: "POST"), response.status == 200 {
            tally.update { $0.reloads.record(ContinuousClock.now - start) }
        } else {
            tally.update { $0.connectionErrors += 1 }
        }
    }
}

func storms(chat: ChatDouble, until end: ContinuousClock.Instant) async {
    while ContinuousClock.now < end {
        try? await Task.sleep(for: .seconds(180))
        for _ in 0..<40 { chat.script("*", .rateLimited(retryAfter: 1)) }
    }
}

/// Alerts go to a channel per team, as a real workspace would have them: one channel takes one message a
/// second (Slack's pace, which Herald keeps), so a soak that sent everything to one channel would measure
/// that channel's backlog, not Herald.
let teams = 20

/// The chat double: the workspaces and connector `RunningServer.configYAML` names, with a channel per team.
func chatDouble() async throws -> ChatDouble {
    let channels = (0..<teams).map { "team-\($0)" }
    return try await ChatDouble(
        slack: [
            "acme": (token: "xoxb-acme", channels: channels + ["oncall"]),
            "globex": (token: "xoxb-globex", channels: channels + ["alerts"]),
        ],
        mattermost: ["ops": (token: "mm-token", channels: channels)],
        slackUsers: ["U0ALICE": "alice@example.com"],
        mattermostUsers: ["mmalice": "alice@example.com"])
}

@main
struct Soak {
    static func main() async throws {
        let options = try Options(CommandLine.arguments)
        let directory = TemporaryDirectory()
        let chat = try await chatDouble()
        let port = try freePort()
        directory.write(
            "herald.yaml",
            RunningServer.configYAML(directory: directory.path, chat: chat)
                .replacingOccurrences(of: "  port: 0", with: "  port: \(port)"))
        directory.write("rules/payments.yaml", rules(version: 1))
        let server = Server(herald: options.herald, directory: directory, port: port)
        try await server.start()
        chat.weather(failures: 0.05, rateLimits: 0.02)

        let tally = Tally()
        let half = Duration.seconds(options.minutes * 30)
        let begin = ContinuousClock.now
        let end = begin + half * 2
        let workers = 8
        print("soak: \(options.minutes) minutes, \(options.eventsPerSecond) events/s, herald on port \(port)")

        let load = Task {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<workers {
                    group.addTask {
                        await sendEvents(server: server, tally: tally, perSecond: options.eventsPerSecond / Double(workers), until: end)
                    }
                }
                group.addTask { await sendClicks(server: server, chat: chat, tally: tally, until: end) }
                group.addTask { await reloadRules(server: server, tally: tally, until: end) }
                group.addTask { await storms(chat: chat, until: end) }
            }
        }

        // Memory once warm, then the kill half-way, a restart on the same files, and memory at the end.
        try await Task.sleep(for: .seconds(min(30, options.minutes * 6)))
        let firstResident = server.resident
        tally.update { $0.residentAtStart = firstResident }
        try await Task.sleep(until: begin + half, clock: .continuous)
        let beforeKill = server.resident
        tally.update { $0.residentAtEnd = beforeKill }
        await server.kill()
        let killedAt = ContinuousClock.now
        tally.current.store(1, ordering: .relaxed)
        try await server.start()
        let downtime = ContinuousClock.now - killedAt
        try await Task.sleep(for: .seconds(min(30, options.minutes * 6)))
        let secondResident = server.resident
        tally.update { $0.residentAtStart = secondResident }
        await load.value
        let endResident = server.resident
        tally.update { $0.residentAtEnd = endResident }

        // Fair weather, then wait for the outbox to drain.
        chat.weather(failures: 0, rateLimits: 0)
        chat.resetScripts()
        let drainDeadline = ContinuousClock.now + .seconds(600)
        var pending = -1
        while ContinuousClock.now < drainDeadline {
            let metrics = (try? await HTTPTestRequest("GET", "/metrics").send(port: port).text) ?? ""
            pending = metrics.split(separator: "\n").first { $0.hasPrefix("herald_outbox_pending ") }
                .flatMap { Double($0.split(separator: " ").last ?? "") }.map { Int($0) } ?? -1
            if pending == 0 { break }
            try await Task.sleep(for: .seconds(1))
        }

        // Every acknowledged event must be counted in its issue.
        var seen: [Int: Int] = [:]
        var cursor: String?
        repeat {
            let page = try await server.admin("/api/v1/issues?project=payments&limit=500" + (cursor.map { "&cursor=\($0)" } ?? ""))
            for issue in page.json["issues"] as? [[String: Any]] ?? [] {
                guard let title = issue["title"] as? String, title.hasPrefix("soak issue "),
                    let number = Int(title.dropFirst("soak issue ".count)), let count = issue["times_seen"] as? Int
                else { continue }
                seen[number] = count
            }
            cursor = page.json["next_cursor"] as? String
        } while cursor != nil
        let acknowledged = tally.acknowledged.withLock { $0 }
        let lost = acknowledged.reduce(0) { $0 + max(0, $1.value - (seen[$1.key] ?? 0)) }
        let acknowledgedTotal = acknowledged.values.reduce(0, +)

        // A message posted twice: a second top-level post for the same issue in the same channel.
        var posts: [String: Int] = [:]
        for message in chat.messages where message.threadRef == nil {
            let text = String(decoding: message.body, as: UTF8.self)
            guard let issue = text.firstMatch(of: /PAYMENTS-[0-9]+/) else { continue }
            posts["\(message.workspace) \(message.channelID) \(issue.output)", default: 0] += 1
        }
        let twice = posts.values.reduce(0) { $0 + max(0, $1 - 1) }
        let exit = await server.stop()

        let phases = tally.phases.withLock { $0 }
        func mib(_ bytes: Int) -> String { String(format: "%.0f MiB", Double(bytes) / 1_048_576) }
        func ms(_ value: Double) -> String { String(format: "%.1f ms", value) }
        print("""

            | | first half | second half (after SIGKILL and restart) |
            |---|---|---|
            | events acknowledged | \(phases[0].events.count) | \(phases[1].events.count) |
            | events refused (4xx/5xx) | \(phases[0].refused) | \(phases[1].refused) |
            | connection errors (the kill) | \(phases[0].connectionErrors) | \(phases[1].connectionErrors) |
            | event p50 / p99 / max | \(ms(phases[0].events.percentile(50))) / \(ms(phases[0].events.percentile(99))) / \(ms(phases[0].events.percentile(100))) | \(ms(phases[1].events.percentile(50))) / \(ms(phases[1].events.percentile(99))) / \(ms(phases[1].events.percentile(100))) |
            | clicks, p99 | \(phases[0].clicks.count), \(ms(phases[0].clicks.percentile(99))) | \(phases[1].clicks.count), \(ms(phases[1].clicks.percentile(99))) |
            | reloads, p99 | \(phases[0].reloads.count), \(ms(phases[0].reloads.percentile(99))) | \(phases[1].reloads.count), \(ms(phases[1].reloads.percentile(99))) |
            | resident memory, start → end | \(mib(phases[0].residentAtStart)) → \(mib(phases[0].residentAtEnd)) | \(mib(phases[1].residentAtStart)) → \(mib(phases[1].residentAtEnd)) |

            issues: \(tally.issuesOpened.load(ordering: .relaxed)); events acknowledged: \(acknowledgedTotal); lost: \(lost)
            restart: serving again \(String(format: "%.2f", Double(downtime.components.seconds) + Double(downtime.components.attoseconds) / 1e18)) s after the kill; outbox pending after the drain: \(pending)
            chat: \(chat.messageCount) messages, \(chat.requests.count) requests; top-level posts: \(posts.count), posted twice: \(twice)
            herald exit status on SIGTERM at the end: \(exit)
            """)
        try await chat.stop()
        if lost > 0 || pending != 0 || exit != 0 { Foundation.exit(1) }
    }
}
