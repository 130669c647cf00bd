import Foundation
import HeraldCore

/// A Sentry envelope: a JSON header line, then items, each a JSON header line and a payload that is either
/// `length` bytes long or runs to the next newline.
struct SentryEnvelope {
    struct Item {
        var type: String
        var payload: ArraySlice<UInt8>
    }

    /// The envelope header's `event_id`, used when an event item carries none.
    var eventID: String?
    var items: [Item]

    init(parsing bytes: [UInt8]) throws(APIError) {
        var position = 0
        let headerLine = Self.line(bytes, from: &position)
        guard let header = Self.decode(EnvelopeHeader.self, headerLine) else {
            throw .badRequest("the envelope header (line 1) is not a JSON object", field: "envelope")
        }
        eventID = header.eventID
        items = []
        while position < bytes.count {
            let start = position
            let itemHeaderLine = Self.line(bytes, from: &position)
            if itemHeaderLine.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) { continue }
            let number = items.count
            guard let itemHeader = Self.decode(ItemHeader.self, itemHeaderLine) else {
                throw .badRequest("item \(number) header (byte \(start)) is not a JSON object", field: "envelope.items[\(number)]")
            }
            guard let type = itemHeader.type else {
                throw .badRequest("item \(number) has no 'type'", field: "envelope.items[\(number)].type")
            }
            let payload: ArraySlice<UInt8>
            if let lengthValue = itemHeader.length {
                guard let length = lengthValue.whole, length >= 0 else {
                    throw .badRequest("item \(number) 'length' must be a whole number of bytes",
                                      field: "envelope.items[\(number)].length")
                }
                guard length <= bytes.count - position else {
                    throw .badRequest("item \(number) says it is \(length) bytes but only \(bytes.count - position) remain",
                                      field: "envelope.items[\(number)].length")
                }
                payload = bytes[position..<position + length]
                position += length
                if position < bytes.count, bytes[position] == UInt8(ascii: "\n") { position += 1 }
            } else {
                payload = Self.line(bytes, from: &position)
            }
            items.append(Item(type: type, payload: payload))
        }
    }

    /// The bytes up to the next newline (or the end), moving past the newline.
    private static func line(_ bytes: [UInt8], from position: inout Int) -> ArraySlice<UInt8> {
        let start = position
        let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
        position = min(end + 1, bytes.count)
        return bytes[start..<end]
    }

    /// A header line as `T`; an empty line is an empty object. Other keys are ignored, as Sentry does.
    private static func decode<T: Decodable>(_ type: T.Type, _ bytes: ArraySlice<UInt8>) -> T? {
        guard (try? JSONShape.check(bytes)) != nil else { return nil }
        return try? JSONDecoder().decode(T.self, from: bytes.isEmpty ? Data("{}".utf8) : Data(bytes))
    }

    private struct EnvelopeHeader: Decodable {
        var eventID: String?
        private enum CodingKeys: String, CodingKey { case eventID = "event_id" }
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            eventID = try? container.decodeIfPresent(String.self, forKey: .eventID)
        }
    }

    private struct ItemHeader: Decodable {
        var type: String?
        var length: JSONValue?
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            type = try? container.decodeIfPresent(String.self, forKey: .type)
            length = try container.decodeIfPresent(JSONValue.self, forKey: .length)
        }
        private enum CodingKeys: String, CodingKey { case type, length }
    }
}

extension JSONValue {
    /// The value as a whole number, when it is one.
    fileprivate var whole: Int? {
        guard case .number(let value) = self, value.rounded() == value, abs(value) < 1e15 else { return nil }
        return Int(value)
    }
}
