import Foundation
import HeraldTestSupport
import Testing

/// The install script into a staging tree, and the systemd unit it installs checked by `systemd-analyze
/// verify` (from Debian's systemd; the test is skipped where there is none).
@Suite struct InstallTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..")
        .standardizedFileURL.path
    static let verifier = "/usr/bin/systemd-analyze"

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: verifier), "needs systemd-analyze"))
    func theInstalledUnitVerifiesAndTheConfigChecks() async throws {
        let stage = TemporaryDirectory()
        let install = try ChildProcess(
            "/usr/bin/env",
            ["bash", Self.repository + "/examples/deploy/install.sh", "--destdir", stage.path, "--binary", ChildProcess.heraldExecutable])
        let (status, output) = await install.result(within: .seconds(120))
        #expect(status == 0, "\(output)")
        let binary = stage.path + "/usr/local/bin/herald"
        #expect(FileManager.default.isExecutableFile(atPath: binary))
        let env = try FileManager.default.attributesOfItem(atPath: stage.path + "/etc/herald/herald.env")
        #expect((env[.posixPermissions] as? Int) == 0o600)

        // The unit as installed names /usr/local/bin/herald; verify the same text pointed at the staged binary.
        let unit = try String(contentsOfFile: stage.path + "/etc/systemd/system/herald.service", encoding: .utf8)
        #expect(unit.contains("ExecStart=/usr/local/bin/herald serve --config /etc/herald/herald.yaml"))
        for setting in ["User=herald", "StateDirectory=herald", "Restart=on-failure", "NoNewPrivileges=yes", "ProtectSystem=strict"] {
            #expect(unit.contains(setting), "\(setting)")
        }
        let checked = stage.write("herald.service", unit.replacingOccurrences(of: "ExecStart=/usr/local/bin/herald", with: "ExecStart=\(binary)"))
        let verify = try ChildProcess(Self.verifier, ["verify", checked])
        let (verified, complaints) = await verify.result(within: .seconds(60))
        #expect(verified == 0, "\(complaints)")
        // systemd-analyze only warns (exit 0) about unknown keys and bad values: any output is a finding.
        #expect(complaints.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(complaints)")

        // The installed config keeps its database in the state directory and checks clean with its rules.
        let config = try String(contentsOfFile: stage.path + "/etc/herald/herald.yaml", encoding: .utf8)
        #expect(config.contains("sqlite: /var/lib/herald/herald.sqlite"))
        let check = try ChildProcess(binary, ["rules", "check", "--config", stage.path + "/etc/herald/herald.yaml"])
        let (clean, summary) = await check.result(within: .seconds(60))
        #expect(clean == 0, "\(summary)")

        // Running it again keeps the operator's config and secrets.
        stage.write("etc/herald/herald.env", "HERALD_ADMIN_TOKEN=kept\n")
        let again = try ChildProcess(
            "/usr/bin/env",
            ["bash", Self.repository + "/examples/deploy/install.sh", "--destdir", stage.path, "--binary", ChildProcess.heraldExecutable])
        #expect(await again.result(within: .seconds(120)).status == 0)
        #expect(try String(contentsOfFile: stage.path + "/etc/herald/herald.env", encoding: .utf8) == "HERALD_ADMIN_TOKEN=kept\n")
    }
}
