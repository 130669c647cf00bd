import ArgumentParser
import Foundation
import HeraldConsole
import HeraldCore
import HeraldStore

struct Tokens: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make, list and revoke named admin-API tokens (works while Herald runs; no restart needed).",
        discussion: """
            Scopes: read (the admin API's GETs and /-/rules), act (also acting on issues), admin (also /-/reload). \
            Only each token's SHA-256 is stored. To rotate one: create a new token, move its users over, revoke \
            the old one.
            """,
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a token and print it, once.")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "A name for the token (letters, digits, '-', '_', '.').")
        var name: String
        @Option(help: "read, act or admin.")
        var scope: String = "read"

        func validate() throws {
            guard AdminScope(rawValue: scope) != nil else {
                throw ValidationError("unknown scope '\(scope.prefix(40))'; expected read, act or admin")
            }
            guard (1...64).contains(name.count), name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
                throw ValidationError("a token's name is 1 to 64 letters, digits, '-', '_' or '.', not '\(name.prefix(64))'")
            }
        }

        func run() async throws {
            let config = try options.load()
            let store = try options.existingStore(config)
            guard try await !store.adminTokens().contains(where: { $0.name == name }) else {
                throw failure("a token named '\(name)' exists; revoke it first, or choose another name")
            }
            let secret = "hrld_" + ConsoleSecrets.token()
            try await store.createAdminToken(
                name: name, hash: ConsoleSecrets.hash(secret), scope: AdminScope(rawValue: scope) ?? .read)
            print(secret)
            FileHandle.standardError.write(Data("token '\(name)' (scope \(scope)) made; it is shown only now\n".utf8))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the named tokens (never their secrets).")
        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let config = try options.load()
            let tokens = try await options.existingStore(config).adminTokens()
            guard !tokens.isEmpty else {
                print("no named tokens" + (config.adminToken != nil ? "; the config's admin_token has every scope" : ""))
                return
            }
            print(table(header: ["NAME", "SCOPE", "CREATED", "LAST USED"], rows: tokens.map { token in
                [token.name, token.scope.rawValue, Timestamp.text(token.createdAt), token.lastUsedAt.map(Timestamp.text) ?? "never"]
            }))
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a named token; its next request is refused.")
        @OptionGroup var options: ConfigOptions
        @Argument(help: "The token's name.")
        var name: String

        func run() async throws {
            let config = try options.load()
            guard try await options.existingStore(config).revokeAdminToken(name: name) else {
                throw failure("no token named '\(name.prefix(64))'")
            }
            print("token '\(name)' revoked")
        }
    }
}
