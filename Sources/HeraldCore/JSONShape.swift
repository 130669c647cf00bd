/// A check of JSON's shape in one pass over its bytes, before any decoder runs on it: how deep it nests,
/// how many values it holds, how long its strings are.
///
/// Decoders can cost far more than linear time on adversarial JSON (deep nesting repeated in sibling values
/// made event decoding take seconds for a few kilobytes), so every decoder Herald runs on bytes from outside
/// is guarded by this check, whose cost is linear and whose limits are documented in the README. It does not
/// validate the JSON; the decoder that follows does.
public enum JSONShape {
    /// The limits, with the defaults every endpoint uses.
    public struct Limits: Sendable, Hashable {
        /// Arrays and objects inside one another.
        public var depth: Int
        /// Values of all kinds, counted as the elements of every array and object.
        public var elements: Int
        /// Bytes in one string, escapes counted as written.
        public var stringBytes: Int

        public init(depth: Int = 64, elements: Int = 200_000, stringBytes: Int = 512 * 1024) {
            self.depth = depth
            self.elements = elements
            self.stringBytes = stringBytes
        }

        public static let standard = Limits()
    }

    /// Which limit a document exceeded.
    public enum Violation: Error, Equatable, CustomStringConvertible {
        case tooDeep(limit: Int)
        case tooManyElements(limit: Int)
        case stringTooLong(limit: Int)

        public var description: String {
            switch self {
            case .tooDeep(let limit): "the JSON nests arrays and objects more than \(limit) deep"
            case .tooManyElements(let limit): "the JSON holds more than \(limit) values"
            case .stringTooLong(let limit): "the JSON has a string longer than \(limit) bytes"
            }
        }
    }

    /// Throws the first limit `bytes` exceeds.
    public static func check(_ bytes: some Sequence<UInt8>, limits: Limits = .standard) throws(Violation) {
        // Contiguous bytes (Data, arrays, UTF-8 views) are scanned as a buffer: a generic iterator across the
        // module boundary costs a call per byte, which showed in ingest's throughput.
        let contiguous = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(Violation) in try scan(buffer, limits: limits) }
        }
        if let contiguous {
            try contiguous.get()
        } else {
            try scan(Array(bytes), limits: limits)
        }
    }

    private static func scan(_ bytes: some Collection<UInt8>, limits: Limits) throws(Violation) {
        var depth = 0
        var elements = 0
        var inString = false
        var escaped = false
        var stringBytes = 0
        for byte in bytes {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                    continue
                }
                stringBytes += 1
                if stringBytes > limits.stringBytes { throw .stringTooLong(limit: limits.stringBytes) }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
                stringBytes = 0
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                elements += 1
                if depth > limits.depth { throw .tooDeep(limit: limits.depth) }
                if elements > limits.elements { throw .tooManyElements(limit: limits.elements) }
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth -= 1
            case UInt8(ascii: ","):
                elements += 1
                if elements > limits.elements { throw .tooManyElements(limit: limits.elements) }
            default:
                break
            }
        }
    }
}
