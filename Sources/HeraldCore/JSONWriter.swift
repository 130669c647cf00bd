import Foundation

/// JSON that is already encoded, placed as is.
public struct RawJSON: Sendable {
    public var data: Data

    public init(data: Data) {
        self.data = data
    }
}

/// An explicit JSON `null` inside an object (a nil value leaves the key out).
public struct JSONNull: Sendable {
    public init() {}
}

/// RFC 3339 in UTC with milliseconds.
public enum Timestamp {
    public static func text(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}

/// Writes JSON with keys sorted, so answers are stable and easy to read.
public enum JSONWriter {
    /// An object as JSON text.
    public static func text(_ object: [String: any Sendable]) -> String {
        var text = ""
        write(object, into: &text)
        return text
    }

    public static func write(_ value: (any Sendable)?, into text: inout String) {
        switch value {
        case nil: text += "null"
        case let string as String: string_(string, into: &text)
        case let bool as Bool: text += bool ? "true" : "false"
        case let int as Int: text += String(int)
        case let int as Int64: text += String(int)
        case let double as Double: text += double.isFinite ? String(double) : "null"
        case is JSONNull: text += "null"
        case let raw as RawJSON: text += String(decoding: raw.data, as: UTF8.self)
        case let array as [any Sendable]:
            text += "["
            for (index, element) in array.enumerated() {
                if index > 0 { text += "," }
                write(element, into: &text)
            }
            text += "]"
        case let object as [String: any Sendable]:
            text += "{"
            for (index, key) in object.keys.sorted().enumerated() {
                if index > 0 { text += "," }
                string_(key, into: &text)
                text += ":"
                write(object[key]!, into: &text)
            }
            text += "}"
        default:
            string_(String(describing: value!), into: &text)
        }
    }

    private static func string_(_ string: String, into text: inout String) {
        text += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case let control where control.value < 0x20:
                text += String(format: "\\u%04x", control.value)
            default: text.unicodeScalars.append(scalar)
            }
        }
        text += "\""
    }
}
