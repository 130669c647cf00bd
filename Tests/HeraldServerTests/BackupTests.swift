import Foundation
import HeraldStore
import HeraldTestSupport
import Testing

/// `herald backup` while a real server takes events, and `herald restore` into a stopped one.
@Suite struct BackupTests {
    func herald(_ arguments: [String], in directory: TemporaryDirectory) async throws -> (status: Int32, output: String) {
        await (try ChildProcess(ChildProcess.heraldExecutable, arguments, directory: directory.path)).result(within: .seconds(120))
    }

    func serve(_ config: String, in directory: TemporaryDirectory) async throws -> (ChildProcess, Int) {
        let server = try ChildProcess(ChildProcess.heraldExecutable, ["serve", "--config", config], directory: directory.path)
        let port = try #require(try await server.waitForOutput(#"address=127\.0\.0\.1:(\d+)"#).flatMap { Int($0) }, "\(server.text)")
        return (server, port)
    }

    func post(_ message: String, port: Int) async throws -> Int {
        try await HTTPTestRequest(
            "POST", "/api/v1/events", headers: [("Authorization", "Bearer pk-1")], json: #"{"message": "\#(message)", "fingerprint": ["\#(message)"]}"#
        ).send(port: port).status
    }

    @Test func aBackupTakenUnderLoadRestoresIntoAStoppedServer() async throws {
        let directory = TemporaryDirectory()
        let config = directory.write("herald.yaml", RunningServer.configYAML(directory: directory.path))
        directory.write("rules/payments.yaml", OperatorTests.rules)
        let (server, port) = try await serve(config, in: directory)
        for index in 0..<20 { #expect(try await post("before \(index)", port: port) == 200) }

        // Events keep arriving while the copy is made.
        let writer = Task {
            var accepted = 0
            for index in 0..<200 where try await post("during \(index)", port: port) == 200 { accepted += 1 }
            return accepted
        }
        let backup = directory.path + "/backups/herald-1.sqlite"
        try FileManager.default.createDirectory(atPath: directory.path + "/backups", withIntermediateDirectories: true)
        let made = try await herald(["backup", "--config", config, backup], in: directory)
        #expect(made.status == 0, "\(made.output)")
        #expect(made.output.contains("integrity ok"), "\(made.output)")
        #expect(try await writer.value == 200)
        let copied = try Store.inspect(backup)
        #expect(copied.issues >= 20 && copied.issues <= 220)

        // Never over an existing file; never while the server runs.
        let again = try await herald(["backup", "--config", config, backup], in: directory)
        #expect(again.status == 1 && again.output.contains("exists already"), "\(again.output)")
        let busy = try await herald(["restore", "--config", config, backup], in: directory)
        #expect(busy.status == 1 && busy.output.contains("cannot restore while the server runs"), "\(busy.output)")

        server.signal(SIGTERM)
        #expect(await server.waitForExit() == 0)
        #expect(try Store.inspect(directory.path + "/data/herald.sqlite").issues == 220)

        // Something that is not a backup changes nothing.
        let junk = directory.write("junk.sqlite", "not a database at all")
        let refused = try await herald(["restore", "--config", config, junk], in: directory)
        #expect(refused.status == 1 && refused.output.contains("is not a Herald database"), "\(refused.output)")
        #expect(try Store.inspect(directory.path + "/data/herald.sqlite").issues == 220)

        let restored = try await herald(["restore", "--config", config, backup], in: directory)
        #expect(restored.status == 0, "\(restored.output)")
        #expect(restored.output.contains("before-restore-"), "\(restored.output)")
        let (second, secondPort) = try await serve(config, in: directory)
        let issues = try await HTTPTestRequest(
            "GET", "/api/v1/issues?limit=500", headers: [("Authorization", "Bearer \(RunningServer.adminToken)")]
        ).send(port: secondPort).json["issues"] as? [Any]
        #expect(issues?.count == copied.issues)
        #expect(try await post("after the restore", port: secondPort) == 200)
        second.signal(SIGTERM)
        #expect(await second.waitForExit() == 0)
    }
}
