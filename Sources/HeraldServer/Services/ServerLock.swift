import Foundation
import ServiceLifecycle
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// An exclusive lock on a file beside the database, held for as long as `herald serve` runs, so a second
/// server can never run beside the first on the same SQLite file (two writers would each believe they own the
/// outbox and send its messages twice). The command-line tools that read or act on the database do not take
/// it: they work beside a running server by design.
///
/// The lock is `flock(2)` on `<database>.lock`: the kernel drops it when the process ends, however it ends,
/// so a crash never leaves a stale lock. The file holds the owner's process id for the error message.
///
/// As a service it is the first of the server's group, so it stops last: the lock is let go once everything
/// else, delivery's last writes included, has finished.
public final class ServerLock: Service, Sendable {
    public let path: String
    private let descriptor: Mutex<Int32?>

    /// Why the lock could not be taken.
    public struct Held: Error, CustomStringConvertible {
        public var path: String
        public var owner: String?
        public var reason: String

        public var description: String {
            "another herald serve is using this database (lock \(path)\(owner.map { ", process \($0)" } ?? "")): \(reason); "
                + "stop it first, or give this one its own storage.sqlite"
        }
    }

    /// Takes the lock for the database at `databasePath`, or throws `Held` at once; it never waits.
    public init(databasePath: String) throws {
        path = databasePath + ".lock"
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw Held(path: path, owner: nil, reason: String(cString: strerror(errno)))
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno == EWOULDBLOCK ? "it is locked" : String(cString: strerror(errno))
            let owner = (try? String(contentsOfFile: path, encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines)
            close(descriptor)
            throw Held(path: path, owner: owner.flatMap { $0.isEmpty ? nil : String($0.prefix(20)) }, reason: reason)
        }
        self.descriptor = Mutex(descriptor)
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
    }

    /// Holds the lock until the server shuts down, then lets it go.
    public func run() async throws {
        try? await gracefulShutdown()
        release()
    }

    /// Lets the lock go; a second call does nothing.
    public func release() {
        guard let descriptor = descriptor.withLock({ $0.take() }) else { return }
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    deinit {
        release()
    }
}
