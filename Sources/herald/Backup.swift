import ArgumentParser
import Foundation
import HeraldConfig
import HeraldServer
import HeraldStore

struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Copy the database to FILE, consistently, while Herald runs.",
        discussion: """
            The copy is SQLite's online backup of one snapshot, checked with PRAGMA integrity_check. It holds \
            everything: issues, events, firings, the outbox, the audit trail, console sessions and sign-in links \
            (hashed), and the keys Herald made for itself (button signing, console cookies): keep it as you keep \
            the config's secrets.
            """)

    @OptionGroup var options: ConfigOptions

    @Argument(help: "Where to write the copy; must not exist.")
    var file: String

    func run() async throws {
        let config = try options.load()
        let store = try options.existingStore(config)
        let target = Config.absolute(file)
        do {
            let report = try store.backup(to: target)
            print("backed up \(config.storage.sqlite) to \(report.path)")
            print(report.summary)
        } catch let error as BackupError {
            throw failure("herald: \(error)")
        }
    }
}

struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Put a backup made by `herald backup` in place of the database; the server must be stopped.",
        discussion: """
            The backup is checked before anything is touched. The database it replaces is kept beside it as \
            <file>.before-restore-<time>. The next `herald serve` upgrades an older backup's schema.
            """)

    @OptionGroup var options: ConfigOptions

    @Argument(help: "A file made by `herald backup`.")
    var file: String

    func run() async throws {
        let config = try options.load()
        // Held for the whole restore: no server can start on the database meanwhile, and none may be running.
        let lock: ServerLock
        do {
            lock = try ServerLock(databasePath: config.storage.sqlite)
        } catch let held as ServerLock.Held {
            throw failure("herald: cannot restore while the server runs: \(held)")
        }
        defer { lock.release() }
        do {
            let (report, kept) = try Store.restore(from: Config.absolute(file), to: config.storage.sqlite)
            print("restored \(report.path) to \(config.storage.sqlite)")
            print(report.summary)
            if let kept { print("the database it replaced is kept as \(kept)") }
        } catch let error as BackupError {
            throw failure("herald: \(error)")
        }
    }
}

struct RotateKey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rotate-key",
        abstract: "Make Herald replace a key it made for itself at its next start.",
        discussion: """
            button-signing: Mattermost buttons already posted stop working until their message is next updated. \
            console: every console session ends. Restart `herald serve` afterwards.
            """)

    @OptionGroup var options: ConfigOptions

    @Argument(help: "button-signing or console.")
    var key: String

    func run() async throws {
        let config = try options.load()
        let store = try options.existingStore(config)
        guard try store.forgetKey(key) else { throw ValidationError("unknown key '\(key)'; expected button-signing or console") }
        print("the \(key) key is forgotten; restart herald serve to make and use a new one")
    }
}

extension BackupReport {
    /// What the copy holds, for people.
    var summary: String {
        "\(issues) issues, \(events) events, \(deliveries) deliveries, \(actions) actions; schema \(schema); \(bytes) bytes; integrity ok"
    }
}
