/// Free-form JSON, for the parts of an event Herald keeps but does not interpret (`extra`, `contexts`).
public enum JSONValue: Sendable, Hashable, Codable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        // Each wrong guess costs a thrown error, so the likeliest kinds in event payloads come first.
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([String: JSONValue].self) {
            self = .object(value)
        } else if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else {
            self = .array(try container.decode([JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// The value at a dotted path of object keys (`order.id`), if every step exists.
    public func value(at path: some Collection<Substring>) -> JSONValue? {
        var current = self
        for key in path {
            guard case .object(let object) = current, let next = object[String(key)] else { return nil }
            current = next
        }
        return current
    }

    /// The value as rule filters compare it: scalars as text, arrays as each element, objects and null as nothing.
    public var scalarTexts: [String] {
        switch self {
        case .null, .object: []
        case .bool(let value): [value ? "true" : "false"]
        case .number(let value):
            [value.rounded() == value && abs(value) < 1e15 ? String(Int64(value)) : String(value)]
        case .string(let value): [value]
        case .array(let values): values.flatMap(\.scalarTexts)
        }
    }
}
