import Foundation
import HeraldConfig
import HeraldRules
import Synchronization

/// The rule set the server runs, and the outcome of the last attempt to load a new one.
///
/// A new set is compiled before it is swapped in, so readers always see one complete engine; a set that
/// does not load leaves the running one in place and keeps its errors for `GET /-/rules`.
public final class RuleBook: Sendable {
    /// The running rules.
    public struct Loaded: Sendable {
        public var engine: RuleEngine
        public var loadedAt: Date
    }

    /// The last load that failed, kept until one succeeds.
    public struct Failure: Sendable {
        public var diagnostics: Diagnostics
        public var at: Date
    }

    private struct State {
        var loaded: Loaded
        var failure: Failure?
        /// The files as they were when the last load (successful or not) read them.
        var snapshot: RuleFileSnapshot
    }

    public let directory: String
    private let loader: RuleLoader
    private let state: Mutex<State>
    /// Loads run one at a time so an older load can never replace a newer one.
    private let loading = Mutex<Void>(())

    /// Loads the rules; an invalid set here is an error, since there is nothing to keep running.
    public init(directory: String, config: Config) throws(Diagnostics) {
        self.directory = directory
        loader = RuleLoader(config: config)
        let snapshot = RuleFileSnapshot(directory: directory)
        let ruleSet = try loader.load(directory: directory)
        state = Mutex(State(
            loaded: Loaded(engine: RuleEngine(ruleSet: ruleSet), loadedAt: Date()), failure: nil, snapshot: snapshot))
    }

    public var current: Loaded { state.withLock { $0.loaded } }
    public var engine: RuleEngine { state.withLock { $0.loaded.engine } }
    public var lastFailure: Failure? { state.withLock { $0.failure } }

    /// Whether a rule file was added, removed or changed since the last load read them.
    public var filesChanged: Bool {
        RuleFileSnapshot(directory: directory) != state.withLock { $0.snapshot }
    }

    public enum ReloadOutcome: Sendable {
        /// The files changed and the new set is live.
        case reloaded(version: String, rules: Int)
        /// The files load to the set already running.
        case unchanged(version: String)
        /// The files have errors; the running set stays.
        case failed(Diagnostics)
    }

    /// Reads the rule files again and swaps the new set in if it loads.
    public func reload() -> ReloadOutcome {
        loading.withLock { _ in
            // Taken before reading, so a change made during the load is seen by the next check.
            let snapshot = RuleFileSnapshot(directory: directory)
            state.withLock { $0.snapshot = snapshot }
            let ruleSet: RuleSet
            do throws(Diagnostics) {
                ruleSet = try loader.load(directory: directory)
            } catch {
                state.withLock { $0.failure = Failure(diagnostics: error, at: Date()) }
                return .failed(error)
            }
            return state.withLock { state in
                state.failure = nil
                guard ruleSet.version != state.loaded.engine.ruleSet.version else {
                    return .unchanged(version: ruleSet.version)
                }
                state.loaded = Loaded(engine: RuleEngine(ruleSet: ruleSet), loadedAt: Date())
                return .reloaded(version: ruleSet.version, rules: ruleSet.rules.count)
            }
        }
    }
}

/// Each rule file's path, size and modification time: enough to notice an edit without reading the files.
struct RuleFileSnapshot: Equatable, Sendable {
    private var files: [String: [Double]] = [:]

    /// A directory that cannot be read has no files.
    init(directory: String) {
        for path in (try? RuleLoader.ruleFiles(in: directory)) ?? [] {
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            let size = (attributes?[.size] as? NSNumber)?.doubleValue ?? -1
            let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? -1
            files[path] = [size, modified]
        }
    }
}
