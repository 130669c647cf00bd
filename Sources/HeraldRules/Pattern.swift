import CPCRE2
import Synchronization

/// A PCRE2 regular expression, compiled once (with the JIT where the platform has it) and shared by every
/// rule and thread that uses it.
///
/// Every match is bounded (`Limits`): a pattern that would backtrack for minutes on some input gives up at the
/// limit instead, inside the one ingest writer's transaction. A match that gives up is neither a match nor a
/// non-match, so both `matches` and `not_matches` are false for it; each such give-up is counted.
///
/// `@unchecked Sendable`: the compiled code and the match context are never mutated after `init`, and PCRE2
/// documents both as safe to use from several threads at once; the per-match scratch (match data) is
/// created per call and never shared; the count is atomic.
public final class Pattern: @unchecked Sendable, Hashable, CustomStringConvertible {
    /// How much work one match may do.
    public struct Limits: Sendable, Hashable {
        /// Calls of PCRE2's internal match function (its `match_limit`; PCRE2's own default is 10,000,000).
        public var match: UInt32
        /// Nested backtracking points (its `depth_limit`).
        public var depth: UInt32

        public init(match: UInt32 = 100_000, depth: UInt32 = 10_000) {
            self.match = match
            self.depth = depth
        }

        public static let standard = Limits()
    }

    /// How one match ended.
    public enum Outcome: Sendable, Equatable {
        case match, noMatch
        /// The match gave up at a limit.
        case limitHit
    }

    /// The pattern as written; inline flags such as `(?i)` live inside it.
    public let source: String
    public let limits: Limits
    private let code: OpaquePointer
    private let context: OpaquePointer?
    private let hits = Atomic<Int>(0)

    /// How many matches gave up at a limit since the pattern was compiled.
    public var limitHits: Int { hits.load(ordering: .relaxed) }

    /// Why a pattern did not compile: PCRE2's message and the offset in the pattern where it stopped.
    public struct CompileError: Error, Sendable, Hashable, CustomStringConvertible {
        public var message: String
        public var offset: Int
        public var description: String { "\(message) (at offset \(offset) in the pattern)" }
    }

    public init(_ source: String, limits: Limits = .standard) throws(CompileError) {
        var errorCode: Int32 = 0
        var errorOffset = 0
        let compiled = source.withCString { pointer in
            herald_pcre2_compile(
                pointer, source.utf8.count, HERALD_PCRE2_UTF | HERALD_PCRE2_UCP, &errorCode, &errorOffset)
        }
        guard let compiled else {
            throw CompileError(message: Self.message(for: errorCode), offset: errorOffset)
        }
        // A JIT failure (no JIT on this CPU, or out of executable memory) leaves the interpreter in charge,
        // which gives the same answers more slowly.
        _ = herald_pcre2_jit_compile(compiled)
        self.source = source
        self.limits = limits
        self.code = compiled
        context = herald_pcre2_match_context_create(limits.match, limits.depth)
    }

    deinit {
        if let context { herald_pcre2_match_context_free(context) }
        herald_pcre2_code_free(code)
    }

    /// The memory one match needs, to reuse across the matches of one evaluation on one thread.
    ///
    /// Not `Sendable`: PCRE2's match data must not be shared between threads.
    final class Scratch {
        fileprivate let data: OpaquePointer?
        init() { data = herald_pcre2_match_data_create() }
        deinit { if let data { herald_pcre2_match_data_free(data) } }
    }

    /// Whether the pattern matches anywhere in `subject`: only a completed match counts.
    public func matches(_ subject: String) -> Bool {
        evaluate(subject, scratch: nil) == .match
    }

    /// How matching `subject` ends.
    public func evaluate(_ subject: String) -> Outcome {
        evaluate(subject, scratch: nil)
    }

    /// How matching `subject` ends, with the caller's scratch space when it has one. Other errors while matching
    /// count as no match: a failing condition is false, never a crash.
    func evaluate(_ subject: String, scratch: Scratch?) -> Outcome {
        let owned = scratch == nil ? herald_pcre2_match_data_create() : nil
        defer { if let owned { herald_pcre2_match_data_free(owned) } }
        guard let data = scratch?.data ?? owned else { return .noMatch }
        var subject = subject
        let result = subject.withUTF8 { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                herald_pcre2_match(code, chars.baseAddress, chars.count, data, context)
            }
        }
        // 0 means a match with more groups than the one-pair ovector holds: still a match.
        if result >= 0 { return .match }
        switch result {
        case HERALD_PCRE2_ERROR_MATCHLIMIT, HERALD_PCRE2_ERROR_DEPTHLIMIT, HERALD_PCRE2_ERROR_HEAPLIMIT,
            HERALD_PCRE2_ERROR_JIT_STACKLIMIT:
            hits.add(1, ordering: .relaxed)
            return .limitHit
        default:
            return .noMatch
        }
    }

    public var description: String { "/\(source)/" }

    public static func == (lhs: Pattern, rhs: Pattern) -> Bool { lhs.source == rhs.source }
    public func hash(into hasher: inout Hasher) { hasher.combine(source) }

    private static func message(for errorCode: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        let length = herald_pcre2_error_message(errorCode, &buffer, buffer.count)
        guard length > 0 else { return "error \(errorCode)" }
        return String(decoding: buffer[..<Int(length)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
