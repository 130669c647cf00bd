import ArgumentParser
import Foundation
import HeraldConfig
import HeraldCore
import HeraldRules
import HeraldServer
import Logging

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Accept events over HTTP, group them into issues, and run the rules on each.")

    @OptionGroup var options: ConfigOptions

    @Option(help: "The rules directory (default: rules/ beside the config file); reloaded on SIGHUP, on any change, and on POST /-/reload.")
    var rules: String?

    @Option(help: "Seconds between checks of the rules directory for changes; 0 turns the checks off.")
    var rulesPollInterval: Double = 1

    @Option(help: "Log level: trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    @Option(help: "Log format: text, or json (one object a line, for log shippers).")
    var logFormat: LogFormat = .text

    func validate() throws {
        guard (0...86_400).contains(rulesPollInterval) else {
            throw ValidationError("--rules-poll-interval must be 0 to 86400 seconds")
        }
    }

    func run() async throws {
        // Until the reloader listens for it, a SIGHUP (whose default is to end the process) is ignored.
        signal(SIGHUP, SIG_IGN)
        logFormat.bootstrap(level: logLevel)
        let logger = Logger(label: "herald")
        let config = try options.load()
        logger.info("herald \(HeraldVersion.current) starting", metadata: ["config": "\(options.absoluteConfigPath)"])
        for key in config.developmentSecrets {
            logger.warning(
                "\(key) is the example config's development value: anyone who has read herald.yaml knows it; set a secret of your own before others can reach this server")
        }
        raiseOpenFileLimit(logger: logger)
        let server: HeraldServer
        do {
            let poll: Duration? = rulesPollInterval > 0 ? .milliseconds(Int64(rulesPollInterval * 1_000)) : nil
            server = try HeraldServer(
                config: config,
                options: ServerOptions(rulesDirectory: config.rulesDirectory(rules), rulesPollInterval: poll, logger: logger))
        } catch let diagnostics as Diagnostics {
            printError(diagnostics.description)
            throw failure("herald: the config or the rules have errors; fix them and start again")
        } catch let held as ServerLock.Held {
            throw failure("herald: \(held)")
        }
        // SIGTERM and SIGINT stop the server gracefully: it stops accepting, finishes requests in flight,
        // commits what they sent, and exits 0. Any part that fails to start (the listener, a service) stops
        // the whole process, with the reason, and exit status 1.
        do {
            try await server.application().runService()
        } catch {
            throw failure("herald: stopped: \(HeraldServer.describe(error, config: config))")
        }
    }
}

/// Raises the soft limit on open files to the hard one. Every connection is a file; at the common soft limit
/// of 1,024 a thousand idle clients would make accept fail for everyone else, long before memory or the
/// connection deadlines could matter.
private func raiseOpenFileLimit(logger: Logger) {
    #if os(Linux)
    let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
    #else
    let resource = RLIMIT_NOFILE
    #endif
    var limit = rlimit()
    guard getrlimit(resource, &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
    let before = limit.rlim_cur
    limit.rlim_cur = limit.rlim_max
    if setrlimit(resource, &limit) == 0 {
        logger.debug("raised the open-file limit", metadata: ["from": "\(before)", "to": "\(limit.rlim_max)"])
    } else {
        logger.notice("could not raise the open-file limit", metadata: ["limit": "\(before)"])
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
