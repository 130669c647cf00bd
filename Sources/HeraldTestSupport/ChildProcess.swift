import Foundation
import Synchronization

/// A program run by a test, with its output collected as it arrives.
///
/// Started with `posix_spawn`, not Foundation's `Process`: on Linux `Process.run()` crashed now and then
/// (a bad read inside its `memcpy`) once the suite started many programs in parallel, even one launch at a
/// time. Two threads per program read its output and wait for its end.
public final class ChildProcess: Sendable {
    private let pid: pid_t
    private let shared = Shared()

    private final class Shared: Sendable {
        let output = Mutex<String>("")
        /// Set when the output pipe reached its end: everything the program wrote has been collected.
        let outputEnded = Mutex(false)
        let exit = Mutex<(status: Int32?, waiters: [CheckedContinuation<Int32, Never>])>((nil, []))
    }

    public struct SpawnError: Error, CustomStringConvertible {
        public var executable: String
        public var code: Int32
        public var description: String { "cannot start \(executable): \(String(cString: strerror(code)))" }
    }

    /// Starts `executable` with `arguments` in `directory`; stdout and stderr are collected together, stdin
    /// reads nothing. `environment` replaces the test's own when given.
    public init(_ executable: String, _ arguments: [String], directory: String? = nil, environment: [String: String]? = nil)
        throws
    {
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else { throw SpawnError(executable: executable, code: errno) }
        let (readEnd, writeEnd) = (pipeEnds[0], pipeEnds[1])
        _ = fcntl(readEnd, F_SETFD, FD_CLOEXEC)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 1)
        posix_spawn_file_actions_adddup2(&actions, writeEnd, 2)
        posix_spawn_file_actions_addclose(&actions, writeEnd)
        if let directory {
            guard let addChdir = Self.addChdir else { throw SpawnError(executable: executable, code: ENOSYS) }
            _ = addChdir(&actions, directory)
        }

        // The child starts with no signal blocked and the usual dispositions, whatever the test's threads have.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGHUP, SIGINT, SIGTERM, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let environment = environment ?? ProcessInfo.processInfo.environment
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var spawned: pid_t = 0
        let result = posix_spawn(&spawned, executable, &actions, &attributes, argv, envp)
        close(writeEnd)
        guard result == 0 else {
            close(readEnd)
            throw SpawnError(executable: executable, code: result)
        }
        let pid = spawned
        self.pid = pid

        let shared = self.shared
        let reader = Thread {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = read(readEnd, &buffer, buffer.count)
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { break }
                let text = String(decoding: buffer[0..<count], as: UTF8.self)
                shared.output.withLock { $0 += text }
            }
            close(readEnd)
            shared.outputEnded.withLock { $0 = true }
        }
        reader.start()
        let waiter = Thread {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            // As Foundation reports it: the exit code, or the number of the signal that ended the program.
            let code = (status & 0x7f) == 0 ? (status >> 8) & 0xff : status & 0x7f
            let waiters = shared.exit.withLock { state in
                state.status = code
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume(returning: code) }
        }
        waiter.start()
    }

    /// glibc's `posix_spawn_file_actions_addchdir_np` (2.29 and later), which the Glibc module does not show.
    private static let addChdir: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addchdir_np") else { return nil }
        return unsafeBitCast(
            symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32).self)
    }()

    /// Everything the program wrote so far.
    public var text: String { shared.output.withLock { $0 } }

    public var processIdentifier: Int32 { pid }

    public func signal(_ signal: Int32) { kill(pid, signal) }

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
