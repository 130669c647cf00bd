/// Replaces `${NAME}` and `${NAME:-default}` in config text with values from the environment.
///
/// A variable that is unset (and has no default) is an error naming it: a config that silently reads an empty
/// token fails much later and much less clearly.
public struct EnvironmentExpansion: Sendable {
    public let environment: [String: String]

    public init(environment: [String: String]) {
        self.environment = environment
    }

    public enum Failure: Error, Equatable {
        case unset(name: String)
        case unterminated
        case badName(String)
    }

    public func expand(_ text: String) -> Result<String, Failure> {
        guard text.contains("${") else { return .success(text) }
        var result = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            result += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else { return .failure(.unterminated) }
            let body = rest[start.upperBound..<end]
            let name: Substring
            let fallback: Substring?
            if let separator = body.range(of: ":-") {
                name = body[..<separator.lowerBound]
                fallback = body[separator.upperBound...]
            } else {
                name = body
                fallback = nil
            }
            guard let first = name.first, first == "_" || first.isLetter,
                name.allSatisfy({ $0 == "_" || $0.isLetter || $0.isNumber }), name.allSatisfy(\.isASCII)
            else { return .failure(.badName(String(name))) }
            if let value = environment[String(name)], !value.isEmpty {
                result += value
            } else if let fallback {
                result += fallback
            } else {
                return .failure(.unset(name: String(name)))
            }
            rest = rest[rest.index(after: end)...]
        }
        return .success(result + rest)
    }
}

/// Config text with every `${...}` swapped for a placeholder of the same length, so that YAML never sees
/// the braces (the example config writes `${TOKEN}` inside flow mappings, where `{` and `}` are syntax) and
/// values from the environment cannot change the document's structure. Placeholders use private-use
/// characters, which YAML reads as plain text, and keep every line and column where it was.
struct ShieldedText {
    private static let start: Unicode.Scalar = "\u{E000}"
    private static let padding: Unicode.Scalar = "\u{E001}"
    private static let digitBase: UInt32 = 0xE010

    let text: String
    /// The original `${...}` spans, by placeholder number.
    let spans: [String]

    init(_ original: String) {
        var output = String.UnicodeScalarView()
        var spans: [String] = []
        let scalars = Array(original.unicodeScalars)
        var index = 0
        while index < scalars.count {
            if scalars[index] == "$", index + 1 < scalars.count, scalars[index + 1] == "{",
                let close = scalars[(index + 2)...].prefix(while: { $0 != "\n" }).firstIndex(of: "}"),
                close - index + 1 >= 2 + String(spans.count).count
            {
                let span = String(String.UnicodeScalarView(scalars[index...close]))
                var placeholder = [Self.start] + String(spans.count).unicodeScalars.map {
                    Unicode.Scalar(Self.digitBase + $0.value - 48)!
                }
                placeholder += Array(repeating: Self.padding, count: close - index + 1 - placeholder.count)
                output.append(contentsOf: placeholder)
                spans.append(span)
                index = close + 1
            } else {
                output.append(scalars[index])
                index += 1
            }
        }
        self.text = String(output)
        self.spans = spans
    }

    /// The scalar's text with its placeholders turned back into the `${...}` they stood for.
    func restore(_ value: String) -> String {
        guard value.unicodeScalars.contains(Self.start) else { return value }
        var output = String.UnicodeScalarView()
        var number: Int?
        func flush() {
            if let current = number, current < spans.count { output.append(contentsOf: spans[current].unicodeScalars) }
            number = nil
        }
        for scalar in value.unicodeScalars {
            switch scalar {
            case Self.start:
                flush()
                number = 0
            case Self.padding:
                continue
            case _ where number != nil && (Self.digitBase..<Self.digitBase + 10).contains(scalar.value):
                number = number! * 10 + Int(scalar.value - Self.digitBase)
            default:
                flush()
                output.append(scalar)
            }
        }
        flush()
        return String(output)
    }
}
