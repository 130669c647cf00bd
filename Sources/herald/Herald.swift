import ArgumentParser
import HeraldCore

@main
struct Herald: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "herald",
        abstract: "Routes error events to chat through alert rules.",
        version: HeraldVersion.current,
        subcommands: [
            Serve.self, Rules.self, Explain.self, Issues.self, Deliveries.self, LoginLink.self, Backup.self, Restore.self,
            RotateKey.self, Tokens.self, TestConnection.self,
            NotifyTest.self,
        ])
}
