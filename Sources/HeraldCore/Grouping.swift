/// How an event is grouped into an issue: the components that identify its code path, and their digest.
///
/// The rules follow Sentry's default grouping:
/// 1. an explicit `fingerprint`, where `{{ default }}` stands for the default components;
/// 2. else the exception chain: each exception's type plus its in-app frames' module (or file) and function
///    (all frames when none is marked in-app; the normalised value when there is no stack trace);
/// 3. else the message with its variable parts (numbers, hex, UUIDs) normalised.
///
/// Line numbers, ids and addresses never take part, so two events from the same code path group together.
public struct Grouping: Sendable, Hashable {
    /// What was hashed, readable: shown in the admin API so people can see why events grouped as they did.
    public var components: [String]
    /// 32 hex digits identifying the issue within its project.
    public var hash: String

    public init(event: Event) {
        if let fingerprint = event.fingerprint, !fingerprint.isEmpty {
            components = fingerprint.flatMap { part -> [String] in
                Self.isDefaultPlaceholder(part) ? Self.defaultComponents(of: event) : ["fingerprint:" + part]
            }
        } else {
            components = Self.defaultComponents(of: event)
        }
        hash = Self.digest(components)
    }

    static func defaultComponents(of event: Event) -> [String] {
        if !event.exceptions.isEmpty {
            return event.exceptions.flatMap(exceptionComponents)
        }
        if let message = event.message, !message.trimmingWhitespace.isEmpty {
            return ["message:" + normalisedMessage(message)]
        }
        // Nothing identifies the code path: group by where the event came from.
        return ["empty:" + (event.logger ?? event.transaction ?? event.platform ?? "")]
    }

    private static func exceptionComponents(_ exception: ExceptionInfo) -> [String] {
        var parts = ["type:" + (exception.type ?? exception.module ?? "<unknown>")]
        let inApp = exception.frames.filter { $0.inApp == true }
        let frames = inApp.isEmpty ? exception.frames : inApp
        if frames.isEmpty {
            parts.append("value:" + normalisedMessage(exception.value ?? ""))
        } else {
            for frame in frames {
                let place = frame.module ?? frame.filename ?? frame.absPath ?? "?"
                parts.append("frame:" + place + " " + (frame.function ?? "?"))
            }
        }
        return parts
    }

    private static func isDefaultPlaceholder(_ part: String) -> Bool {
        var text = Substring(part.trimmingWhitespace)
        guard text.hasPrefix("{{"), text.hasSuffix("}}") else { return false }
        text = text.dropFirst(2).dropLast(2)
        return String(text).trimmingWhitespace == "default"
    }

    /// The message with UUIDs, hex numbers and numbers replaced by placeholders, and its first line only.
    public static func normalisedMessage(_ message: String) -> String {
        let bytes = Array(message.utf8.prefix { $0 != UInt8(ascii: "\n") })
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            let atWordStart = index == 0 || !bytes[index - 1].isWordByte
            guard atWordStart, byte.isWordByte else {
                output.append(byte)
                index += 1
                continue
            }
            var end = index
            while end < bytes.count, bytes[end].isWordByte { end += 1 }
            if let uuidEnd = uuidEnd(bytes, from: index) {
                output.append(contentsOf: "<uuid>".utf8)
                index = uuidEnd
                continue
            }
            let word = bytes[index..<end]
            if word.allSatisfy(\.isDigit) {
                output.append(contentsOf: "<int>".utf8)
            } else if word.count > 2, word.first == UInt8(ascii: "0"), word.dropFirst().first.map({ $0 | 0x20 }) == UInt8(ascii: "x"),
                word.dropFirst(2).allSatisfy(\.isHexDigit)
            {
                output.append(contentsOf: "<hex>".utf8)
            } else if word.count >= 8, word.allSatisfy(\.isHexDigit), word.contains(where: \.isDigit) {
                output.append(contentsOf: "<hex>".utf8)
            } else {
                output.append(contentsOf: word)
            }
            index = end
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The end of a UUID (8-4-4-4-12 hex digits) starting at `start` and ending at a word boundary.
    private static func uuidEnd(_ bytes: [UInt8], from start: Int) -> Int? {
        let groups = [8, 4, 4, 4, 12]
        var index = start
        for (number, length) in groups.enumerated() {
            if number > 0 {
                guard index < bytes.count, bytes[index] == UInt8(ascii: "-") else { return nil }
                index += 1
            }
            for _ in 0..<length {
                guard index < bytes.count, bytes[index].isHexDigit else { return nil }
                index += 1
            }
        }
        return index < bytes.count && bytes[index].isWordByte ? nil : index
    }

    /// FNV-1a over 128 bits: stable across processes and versions, unlike `Hasher`, and collision-free in
    /// practice for the number of issues a project has.
    static func digest(_ components: [String]) -> String {
        let prime: UInt128 = (1 << 88) + (1 << 8) + 0x3b
        var hash: UInt128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d
        for component in components {
            for byte in component.utf8 {
                hash ^= UInt128(byte)
                hash = hash &* prime
            }
            hash ^= 0xff  // separates ["ab", "c"] from ["a", "bc"]
            hash = hash &* prime
        }
        let text = String(hash, radix: 16)
        return String(repeating: "0", count: 32 - text.count) + text
    }
}

extension UInt8 {
    fileprivate var isDigit: Bool { self >= UInt8(ascii: "0") && self <= UInt8(ascii: "9") }
    fileprivate var isHexDigit: Bool {
        isDigit || (self | 0x20 >= UInt8(ascii: "a") && self | 0x20 <= UInt8(ascii: "f"))
    }
    /// Letters, digits and `_`; bytes of non-ASCII characters count as letters so words stay whole.
    fileprivate var isWordByte: Bool {
        isDigit || (self | 0x20 >= UInt8(ascii: "a") && self | 0x20 <= UInt8(ascii: "z")) || self == UInt8(ascii: "_")
            || self >= 0x80
    }
}
