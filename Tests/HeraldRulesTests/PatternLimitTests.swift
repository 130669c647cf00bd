import HeraldRules
import Testing

/// A pattern that backtracks without end gives up at its limit: the match is neither a match nor a
/// non-match, and the give-up is counted.
@Suite struct PatternLimitTests {
    /// Nested quantifiers over a subject that almost matches: exponential backtracking.
    static let catastrophic = "^(a+)+$"
    static let subject = String(repeating: "a", count: 40) + "!"

    @Test func aCatastrophicMatchGivesUpAtItsLimitAndIsCounted() throws {
        let pattern = try Pattern(Self.catastrophic)
        #expect(pattern.evaluate(Self.subject) == .limitHit)
        #expect(!pattern.matches(Self.subject))
        #expect(pattern.limitHits == 2)
        #expect(pattern.evaluate("aaaa") == .match)
        #expect(pattern.evaluate("b") == .noMatch)
        #expect(pattern.limitHits == 2)
    }

    @Test func aLimitHitMakesBothOperatorsFalse() throws {
        let pattern = try Pattern(Self.catastrophic)
        let matches = ValueMatch(.matches, .pattern(pattern))
        let notMatches = ValueMatch(.notMatches, .pattern(pattern))
        #expect(!matches.test(values: [Self.subject], lowercased: [Self.subject.lowercased()]))
        #expect(!notMatches.test(values: [Self.subject], lowercased: [Self.subject.lowercased()]))
        #expect(notMatches.test(values: ["b"], lowercased: ["b"]))
        #expect(matches.test(values: ["b", "aaa"], lowercased: ["b", "aaa"]))
    }

    @Test func theLimitIsTheConfiguredOne() throws {
        // With PCRE2's own default the same subject would run for seconds; a generous limit still ends it.
        let generous = try Pattern(Self.catastrophic, limits: .init(match: 300_000, depth: 100_000))
        #expect(generous.evaluate(Self.subject) == .limitHit)
        let short = try Pattern("^(a|aa)+$", limits: .init(match: 1_000, depth: 100))
        #expect(short.evaluate(String(repeating: "a", count: 12)) == .match)
        #expect(short.evaluate(String(repeating: "a", count: 60) + "b") == .limitHit)
    }

    /// Patterns a cheap search shows to backtrack exponentially, and the subject it finds.
    @Test(arguments: [
        ("^(a+)+$", "a"), ("(a|aa)+$", "a"), ("^ERROR: (\\w+\\s?)+$", "ERROR: "), ("(x+x+)+y", "x"), ("(a+)+b?c", "a"),
        ("^(\\d+)*$", "0"), ("(?i)^(.*a){12}$", "a"),
    ])
    func aCatastrophicPatternIsFoundWithASubject(_ source: String, start: String) throws {
        let pattern = try Pattern(source)
        let subject = try #require(pattern.catastrophicSubject(), "\(source) passed the check")
        #expect(subject.hasPrefix(start))
        #expect(subject.unicodeScalars.count < 40)
        #expect(pattern.evaluate(subject) == .limitHit)
    }

    /// Patterns with nested or repeated quantifiers that stay cheap, as rules use them, pass.
    @Test(arguments: [
        "^(\\d+\\.)+\\d+$", "(?i)timeout|deadline", "^v[0-2]$", "\\d+", "^([a-z]+-)*[a-z]+$",
        "^/api/v[0-9]+/(users|orders)/[0-9]+$", "^.*error.*$", "^(?:[^@]+)@example\\.com$",
        "(foo|bar)*baz", "^$",
    ])
    func anOrdinaryPatternPasses(_ source: String) throws {
        #expect(try Pattern(source).catastrophicSubject() == nil)
    }
}

