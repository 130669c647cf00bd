import Foundation

// Decodes Sentry's event JSON (what SDKs send in `event` envelope items and to `/store/`), accepting the
// variants SDKs actually produce: `message` as text or an object, tags as an object or a list of pairs,
// `exception` as `{values: [...]}` or a bare list, timestamps as RFC 3339 text or Unix seconds.
extension Event: Decodable {
    private enum Keys: String, CodingKey {
        case eventID = "event_id", timestamp, platform, level, logger, transaction
        case serverName = "server_name", release, environment, message, logentry, exception
        case tags, user, request, sdk, fingerprint, extra, contexts
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        self.init()
        eventID = try container.decodeIfPresent(String.self, forKey: .eventID)
        timestamp = try container.decodeIfPresent(FlexibleTimestamp.self, forKey: .timestamp)?.date
        platform = try container.decodeIfPresent(String.self, forKey: .platform)
        if let name = try container.decodeIfPresent(String.self, forKey: .level) {
            guard let level = Level(sdkName: name) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .level, in: container,
                    debugDescription: "unknown level '\(name)'; expected one of \(Level.names.joined(separator: ", "))")
            }
            self.level = level
        }
        logger = try container.decodeIfPresent(String.self, forKey: .logger)
        transaction = try container.decodeIfPresent(String.self, forKey: .transaction)
        serverName = try container.decodeIfPresent(String.self, forKey: .serverName)
        release = try container.decodeIfPresent(String.self, forKey: .release)
        environment = try container.decodeIfPresent(String.self, forKey: .environment)
        message = try container.decodeIfPresent(Message.self, forKey: .message)?.text
            ?? container.decodeIfPresent(Message.self, forKey: .logentry)?.text
        exceptions = try container.decodeIfPresent(ExceptionList.self, forKey: .exception)?.values ?? []
        tags = try container.decodeIfPresent(TagList.self, forKey: .tags)?.tags ?? []
        user = try container.decodeIfPresent(User.self, forKey: .user)
        request = try container.decodeIfPresent(Request.self, forKey: .request)
        sdk = try container.decodeIfPresent(SDK.self, forKey: .sdk)
        fingerprint = try container.decodeIfPresent([String].self, forKey: .fingerprint)
        extra = try container.decodeIfPresent([String: JSONValue].self, forKey: .extra) ?? [:]
        contexts = try container.decodeIfPresent([String: JSONValue].self, forKey: .contexts) ?? [:]
    }

    /// `message` is either the text or `{formatted, message, params}`; the formatted text wins.
    private struct Message: Decodable {
        var text: String?
        init(from decoder: any Decoder) throws {
            if let text = try? decoder.singleValueContainer().decode(String.self) {
                self.text = text
                return
            }
            let container = try decoder.container(keyedBy: Keys.self)
            text = try container.decodeIfPresent(String.self, forKey: .formatted)
                ?? container.decodeIfPresent(String.self, forKey: .message)
        }
        private enum Keys: String, CodingKey { case formatted, message }
    }

    private struct ExceptionList: Decodable {
        var values: [ExceptionInfo]
        init(from decoder: any Decoder) throws {
            // `{values: [...]}` is what SDKs send; a bare list is the older form.
            if let container = try? decoder.container(keyedBy: Keys.self) {
                values = try container.decodeIfPresent([ExceptionInfo].self, forKey: .values) ?? []
            } else {
                values = try decoder.singleValueContainer().decode([ExceptionInfo].self)
            }
        }
        private enum Keys: String, CodingKey { case values }
    }

    /// Tags arrive as `{"key": "value"}` or `[["key", "value"], ...]`; non-text values are kept as text.
    private struct TagList: Decodable {
        var tags: [Tag]
        init(from decoder: any Decoder) throws {
            // An object is what SDKs send; pairs are Sentry's stored form.
            let container = try decoder.singleValueContainer()
            if let object = try? container.decode([String: JSONValue].self) {
                tags = object.sorted { $0.key < $1.key }.map { Tag($0.key, $0.value.scalarTexts.first ?? "") }
            } else {
                let pairs = try container.decode([[JSONValue]].self)
                tags = try pairs.map { pair in
                    guard pair.count == 2, case .string(let key) = pair[0] else {
                        throw DecodingError.dataCorruptedError(
                            in: container, debugDescription: "each tag must be a [key, value] pair")
                    }
                    return Tag(key, pair[1].scalarTexts.first ?? "")
                }
            }
        }
    }
}

extension Event.User: Decodable {
    private enum Keys: String, CodingKey { case id, email, username, ipAddress = "ip_address" }
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        // SDKs send numeric ids as numbers; rules compare them as text.
        id = try container.decodeIfPresent(JSONValue.self, forKey: .id)?.scalarTexts.first
        email = try container.decodeIfPresent(String.self, forKey: .email)
        username = try container.decodeIfPresent(String.self, forKey: .username)
        ipAddress = try container.decodeIfPresent(String.self, forKey: .ipAddress)
    }
}

extension Event.Request: Decodable {
    private enum Keys: String, CodingKey { case url, method }
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        url = try container.decodeIfPresent(String.self, forKey: .url)
        method = try container.decodeIfPresent(String.self, forKey: .method)
    }
}

extension Event.SDK: Decodable {
    private enum Keys: String, CodingKey { case name, version }
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        name = try container.decodeIfPresent(String.self, forKey: .name)
        version = try container.decodeIfPresent(String.self, forKey: .version)
    }
}

extension ExceptionInfo: Decodable {
    private enum Keys: String, CodingKey { case type, value, module, mechanism, stacktrace }
    private enum StacktraceKeys: String, CodingKey { case frames }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        type = try container.decodeIfPresent(String.self, forKey: .type)
        value = try container.decodeIfPresent(String.self, forKey: .value)
        module = try container.decodeIfPresent(String.self, forKey: .module)
        mechanism = try container.decodeIfPresent(Mechanism.self, forKey: .mechanism)
        if container.contains(.stacktrace), try !container.decodeNil(forKey: .stacktrace) {
            let stacktrace = try container.nestedContainer(keyedBy: StacktraceKeys.self, forKey: .stacktrace)
            frames = try stacktrace.decodeIfPresent([Frame].self, forKey: .frames) ?? []
        } else {
            frames = []
        }
    }
}

extension ExceptionInfo.Mechanism: Decodable {
    private enum Keys: String, CodingKey { case type, handled }
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        type = try container.decodeIfPresent(String.self, forKey: .type)
        handled = try container.decodeIfPresent(Bool.self, forKey: .handled)
    }
}

extension ExceptionInfo.Frame: Decodable {
    private enum Keys: String, CodingKey {
        case filename, absPath = "abs_path", module, function, package, lineno, inApp = "in_app"
        case contextLine = "context_line"
    }
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        filename = try container.decodeIfPresent(String.self, forKey: .filename)
        absPath = try container.decodeIfPresent(String.self, forKey: .absPath)
        module = try container.decodeIfPresent(String.self, forKey: .module)
        function = try container.decodeIfPresent(String.self, forKey: .function)
        package = try container.decodeIfPresent(String.self, forKey: .package)
        lineno = try container.decodeIfPresent(Int.self, forKey: .lineno)
        inApp = try container.decodeIfPresent(Bool.self, forKey: .inApp)
        contextLine = try container.decodeIfPresent(String.self, forKey: .contextLine)
    }
}

/// A timestamp as SDKs send it: RFC 3339 text (with or without fractional seconds or zone) or Unix seconds.
public struct FlexibleTimestamp: Decodable, Sendable {
    public var date: Date

    public init(from decoder: any Decoder) throws {
        // Text first: most SDKs send RFC 3339, and a failed attempt costs a thrown error.
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            if let seconds = Double(text), !Self.range.contains(seconds) {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: Self.outOfRange(text))
            }
            guard let date = Self.parse(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "'\(text)' is not an RFC 3339 timestamp or Unix seconds")
            }
            self.date = date
        } else {
            let seconds = try container.decode(Double.self)
            guard Self.range.contains(seconds) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: Self.outOfRange(seconds.formatted()))
            }
            date = Date(timeIntervalSince1970: seconds)
        }
    }

    /// The Unix seconds a timestamp may name: from 1970 to the end of 9999. Anything else is a broken clock
    /// or an attack, and no date Herald could show honestly.
    public static let range: ClosedRange<Double> = 0...253_402_300_799

    static func outOfRange(_ text: String) -> String {
        "'\(text.prefix(40))' is outside the timestamps Herald takes (1970-01-01 to 9999-12-31)"
    }

    /// Parses RFC 3339 text (`2026-11-23T10:15:30.123456Z`, `…+02:00`); a missing zone means UTC, as Sentry's
    /// SDKs intend. Unix seconds as text are accepted too.
    ///
    /// Written out by hand: every event carries a timestamp, and a date formatter costs far more than the
    /// rest of decoding the event.
    public static func parse(_ text: String) -> Date? {
        if let seconds = Double(text) { return range.contains(seconds) ? Date(timeIntervalSince1970: seconds) : nil }
        var bytes = Array(text.utf8)[...]
        func number(_ digits: Int) -> Int? {
            guard bytes.count >= digits else { return nil }
            var value = 0
            for byte in bytes.prefix(digits) {
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            bytes = bytes.dropFirst(digits)
            return value
        }
        func skip(_ separators: String) -> Bool {
            guard let byte = bytes.first, separators.utf8.contains(byte) else { return false }
            bytes = bytes.dropFirst()
            return true
        }
        guard let year = number(4), skip("-"), let month = number(2), skip("-"), let day = number(2),
            skip("Tt "), let hour = number(2), skip(":"), let minute = number(2), skip(":"), let second = number(2),
            (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second <= 60
        else { return nil }
        var fraction = 0.0
        if skip(".") {
            var scale = 0.1
            var digits = 0
            while let byte = bytes.first, byte >= 48, byte <= 57 {
                fraction += Double(byte - 48) * scale
                scale /= 10
                digits += 1
                bytes = bytes.dropFirst()
            }
            guard digits > 0 else { return nil }
        }
        var offset = 0
        if skip("Zz") {
            offset = 0
        } else if let sign = bytes.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            bytes = bytes.dropFirst()
            guard let hours = number(2) else { return nil }
            _ = skip(":")
            guard let minutes = number(2), hours < 24, minutes < 60 else { return nil }
            offset = (hours * 3_600 + minutes * 60) * (sign == UInt8(ascii: "+") ? 1 : -1)
        }
        guard bytes.isEmpty else { return nil }
        let seconds = daysSinceEpoch(year: year, month: month, day: day) * 86_400 + hour * 3_600 + minute * 60 + second
            - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    /// Days from 1970-01-01 to a date of the proleptic Gregorian calendar (Howard Hinnant's algorithm).
    static func daysSinceEpoch(year: Int, month: Int, day: Int) -> Int {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
