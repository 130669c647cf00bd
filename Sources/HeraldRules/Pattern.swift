import CPCRE2

/// A PCRE2 regular expression, compiled once (with the JIT where the platform has it) and shared by every
/// rule and thread that uses it.
///
/// `@unchecked Sendable`: the compiled code is never mutated after `init` and PCRE2 documents compiled code as
/// safe to use from several threads at once; the per-match scratch (match data) is created per call and never
/// shared.
public final class Pattern: @unchecked Sendable, Hashable, CustomStringConvertible {
    /// The pattern as written; inline flags such as `(?i)` live inside it.
    public let source: String
    private let code: OpaquePointer

    /// Why a pattern did not compile: PCRE2's message and the offset in the pattern where it stopped.
    public struct CompileError: Error, Sendable, Hashable, CustomStringConvertible {
        public var message: String
        public var offset: Int
        public var description: String { "\(message) (at offset \(offset) in the pattern)" }
    }

    public init(_ source: String) throws(CompileError) {
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
        self.code = compiled
    }

    deinit {
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

    /// Whether the pattern matches anywhere in `subject`. Errors while matching (for instance the match limit
    /// on a pathological pattern) count as no match: a failing condition is false, never a crash.
    public func matches(_ subject: String) -> Bool {
        matches(subject, scratch: nil)
    }

    /// As `matches(_:)`, with the caller's scratch space when it has one.
    func matches(_ subject: String, scratch: Scratch?) -> Bool {
        let owned = scratch == nil ? herald_pcre2_match_data_create() : nil
        defer { if let owned { herald_pcre2_match_data_free(owned) } }
        guard let data = scratch?.data ?? owned else { return false }
        var subject = subject
        let result = subject.withUTF8 { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                herald_pcre2_match(code, chars.baseAddress, chars.count, data)
            }
        }
        // 0 means a match with more groups than the one-pair ovector holds: still a match.
        return result >= 0
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
