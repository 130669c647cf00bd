import HeraldCore
import Testing

@Suite struct JSONShapeTests {
    static let limits = JSONShape.Limits(depth: 3, elements: 10, stringBytes: 8)

    @Test(arguments: [
        ("[[[]]]", nil),
        ("[[[[]]]]", JSONShape.Violation.tooDeep(limit: 3)),
        (#"{"a": {"b": {"c": 1}}}"#, nil),
        (#"{"a": {"b": {"c": {"d": 1}}}}"#, .tooDeep(limit: 3)),
        // Brackets and quotes inside strings are text.
        (#"["[[[[[[", "\"]]]]"]"#, nil),
        (#"[1,2,3,4,5,6,7,8,9]"#, nil),
        (#"[1,2,3,4,5,6,7,8,9,10,11]"#, .tooManyElements(limit: 10)),
        (#"["12345678"]"#, nil),
        (#"["123456789"]"#, .stringTooLong(limit: 8)),
        (#"["\\\\\\\\"]"#, nil),
        (#"{"key": "short", "other": "1234567890"}"#, .stringTooLong(limit: 8)),
        ("", nil),
    ])
    func checks(_ json: String, _ expected: JSONShape.Violation?) {
        var violation: JSONShape.Violation?
        do {
            try JSONShape.check(json.utf8, limits: Self.limits)
        } catch {
            violation = error
        }
        #expect(violation == expected)
    }

    /// The check is one pass: a megabyte of nesting is refused at the limit's depth, not parsed.
    @Test func deepNestingIsRefusedAtTheLimit() {
        let deep = String(repeating: "[", count: 1_000_000)
        #expect(throws: JSONShape.Violation.tooDeep(limit: 64)) { try JSONShape.check(deep.utf8) }
    }
}
