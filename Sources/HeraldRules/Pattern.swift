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

    /// A short subject on which the pattern backtracks exponentially, if a cheap search finds one.
    ///
    /// Nested quantifiers (`(a+)+`, `(a|aa)+`, `(\w+\s?)*`) take time exponential in the length of a subject
    /// they almost match. The search pumps: each character the pattern names, one of each common class, and
    /// each pair of adjacent literals, repeated to about `pumpLength` characters, after the pattern's literal
    /// prefix when it has one, and followed by a character that makes the match fail. A pattern that needs
    /// more than `budget` steps on any of these few dozen short subjects is catastrophic: a linear one needs
    /// hundreds, a cubic one tens of thousands. Other shapes of catastrophe are left to the match limit.
    public func catastrophicSubject(pumpLength: Int = 28, budget: UInt32 = 1_000_000) -> String? {
        guard let data = herald_pcre2_match_data_create() else { return nil }
        defer { herald_pcre2_match_data_free(data) }
        guard let checking = herald_pcre2_match_context_create(budget, budget) else { return nil }
        defer { herald_pcre2_match_context_free(checking) }
        let prefixes = [""] + [Self.literalPrefix(source)].filter { !$0.isEmpty }
        // PCRE2 fails at once a subject that lacks a character every match needs, so one ending carries them all.
        let endings = ["!", "\n", "\u{1}", "!" + String(String.UnicodeScalarView(Self.literals(source).prefix(16)))]
        for pump in Self.pumps(source) {
            let repeated = String(repeating: pump, count: max(1, pumpLength / pump.count))
            for prefix in prefixes {
                for ending in endings {
                    var subject = prefix + repeated + ending
                    let result = subject.withUTF8 { buffer in
                        buffer.withMemoryRebound(to: CChar.self) { chars in
                            herald_pcre2_match(code, chars.baseAddress, chars.count, data, checking)
                        }
                    }
                    switch result {
                    case HERALD_PCRE2_ERROR_MATCHLIMIT, HERALD_PCRE2_ERROR_DEPTHLIMIT, HERALD_PCRE2_ERROR_HEAPLIMIT,
                        HERALD_PCRE2_ERROR_JIT_STACKLIMIT:
                        return subject
                    default:
                        continue
                    }
                }
            }
        }
        return nil
    }

    /// The strings to repeat: the literal characters of the pattern, one of each common class, and each pair
    /// of adjacent literals (for alternations such as `(ab|a)*`); at most a few dozen.
    private static func pumps(_ source: String) -> [String] {
        var seen = Set<String>()
        var pumps: [String] = []
        func add(_ pump: String) {
            if pumps.count < 48, seen.insert(pump).inserted { pumps.append(pump) }
        }
        for pump in ["a", "0", " ", "-", ".", "/", "_", "é"] { add(pump) }
        let literals = Self.literals(source)
        for scalar in literals { add(String(scalar)) }
        for (first, second) in zip(literals, literals.dropFirst()) { add(String(first) + String(second)) }
        return pumps
    }

    /// The characters of the pattern that may stand for themselves.
    private static func literals(_ source: String) -> [Unicode.Scalar] {
        source.unicodeScalars.filter { scalar in
            scalar.properties.isAlphabetic || scalar.properties.numericType != nil
                || (scalar.isASCII && " -_:/@=,;'\"<>#%&~`".unicodeScalars.contains(scalar))
        }
    }

    /// The literal text the pattern starts with after `^` and inline flags: what a subject must begin with
    /// before the interesting part can be reached (`^ERROR: (\w+\s?)+$` gives "ERROR: ").
    private static func literalPrefix(_ source: String) -> String {
        var rest = Substring(source)
        while true {
            if rest.hasPrefix("^") { rest = rest.dropFirst(); continue }
            if rest.hasPrefix("(?"), let close = rest.firstIndex(of: ")"),
                rest[rest.index(rest.startIndex, offsetBy: 2)..<close].allSatisfy({ "imsxn-".contains($0) })
            {
                rest = rest[rest.index(after: close)...]
                continue
            }
            break
        }
        var prefix = ""
        var characters = rest.makeIterator()
        var previous: Character?
        while let character = characters.next() {
            if "\\[](){}.*+?|^$".contains(character) {
                // A quantifier applies to the last literal taken: it may be absent, so leave it out.
                if "*?{".contains(character), previous != nil { prefix.removeLast() }
                break
            }
            prefix.append(character)
            previous = character
        }
        return prefix
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
