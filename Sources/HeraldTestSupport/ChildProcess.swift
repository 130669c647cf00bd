import Foundation
import Synchronization

/// A program run by a test, with its output collected as it arrives.
public final class ChildProcess: Sendable {
    private let process: Process
    private let shared = Shared()

    private final class Shared: Sendable {
        let output = Mutex<String>("")
        /// Set when the output pipe reached its end: everything the program wrote has been collected.
        let outputEnded = Mutex(false)
        let exit = Mutex<(status: Int32?, waiters: [CheckedContinuation<Int32, Never>])>((nil, []))
    }

    /// Starts `executable` with `arguments` in `directory`; stdout and stderr are collected together.
    public init(_ executable: String, _ arguments: [String], directory: String? = nil, environment: [String: String]? = nil)
        throws
    {
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        if let environment { process.environment = environment }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let shared = self.shared
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            guard !data.isEmpty else {
                handle.readabilityHandler = nil
                shared.outputEnded.withLock { $0 = true }
                return
            }
            shared.output.withLock { $0 += String(decoding: data, as: UTF8.self) }
        }
        process.terminationHandler = { process in
            let waiters = shared.exit.withLock { state in
                state.status = process.terminationStatus
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume(returning: process.terminationStatus) }
        }
        try process.run()
    }

    /// Everything the program wrote so far.
    public var text: String { shared.output.withLock { $0 } }

    public var processIdentifier: Int32 { process.processIdentifier }

    public func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits for the program to end and returns its exit status (or the signal that ended it).
    public func waitForExit() async -> Int32 {
        await withCheckedContinuation { continuation in
            let status = shared.exit.withLock { state -> Int32? in
                if state.status == nil { state.waiters.append(continuation) }
                return state.status
            }
            if let status { continuation.resume(returning: status) }
        }
    }

    /// `result()`, but a program still running after `limit` is killed (its status then reads as SIGKILL), so a
    /// program that never ends fails a test instead of hanging the suite.
    public func result(within limit: Duration) async -> (status: Int32, output: String) {
        let killer = Task { [self] in
            try await Task.sleep(for: limit)
            signal(SIGKILL)
        }
        defer { killer.cancel() }
        return await result()
    }

    /// Waits for the program to end and for the last of its output; its exit status and all it printed.
    public func result() async -> (status: Int32, output: String) {
        let status = await waitForExit()
        let deadline = ContinuousClock.now + .seconds(5)
        while !shared.outputEnded.withLock({ $0 }) && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        return (status, text)
    }

    /// Waits until the output matches `pattern` (a regular expression) and returns its first capture group,
    /// or nil when the program ends or `timeout` passes first.
    public func waitForOutput(_ pattern: String, timeout: Duration = .seconds(30)) async throws -> String? {
        let expression = try NSRegularExpression(pattern: pattern)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let text = self.text
            if let match = expression.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) {
                let range = match.numberOfRanges > 1 ? match.range(at: 1) : match.range
                return Range(range, in: text).map { String(text[$0]) }
            }
            if shared.exit.withLock({ $0.status }) != nil { return nil }
            try await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    /// The `herald` executable built beside the test bundle.
    public static var heraldExecutable: String {
        let bundle = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return bundle.appendingPathComponent("herald").path
    }
}
