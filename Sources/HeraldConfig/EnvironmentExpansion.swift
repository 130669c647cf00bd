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
