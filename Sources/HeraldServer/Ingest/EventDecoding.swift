import Foundation
import HeraldCore

/// Turns request payloads into events, with errors that name the field at fault.
enum EventDecoding {
    /// A Sentry event as SDKs send it: lenient about fields Herald does not read. `payload` is scrubbed in
    /// place, after its shape is checked and before it is decoded, so nothing later sees what was filtered.
    static func sentryEvent(
        _ payload: inout Data, fallbackID: String?, field: String, scrubber: Scrubber? = nil
    ) throws(APIError) -> Event {
        try checkShape(payload, field: field)
        if let scrubber { payload = scrubber.scrub(payload) }
        var event: Event
        do {
            event = try JSONDecoder().decode(Event.self, from: payload)
        } catch {
            throw describe(error, prefix: field)
        }
        event.eventID = try eventID(event.eventID ?? fallbackID, field: field.isEmpty ? "event_id" : field + ".event_id")
        return event
    }

    /// An event in Herald's own format (`POST /api/v1/events`): strict, so a typo is an error, not a
    /// silently missing field.
    /// `payload` is scrubbed as for `sentryEvent`.
    static func heraldEvent(_ payload: inout Data, scrubber: Scrubber? = nil) throws(APIError) -> Event {
        try checkShape(payload, field: "")
        if let scrubber { payload = scrubber.scrub(payload) }
        let body: HeraldEventBody
        do {
            body = try JSONDecoder().decode(HeraldEventBody.self, from: payload)
        } catch {
            throw describe(error, prefix: "")
        }
        var event = body.event
        guard event.message != nil || !event.exceptions.isEmpty else {
            throw .badRequest("an event needs a 'message' or an 'exception'", field: "message")
        }
        event.eventID = try eventID(event.eventID, field: "event_id")
        return event
    }

    /// Refuses JSON beyond the shape limits before it reaches a decoder (see `JSONShape`).
    static func checkShape(_ payload: Data, field: String) throws(APIError) {
        do {
            try JSONShape.check(payload)
        } catch {
            throw .badRequest("\(error); Herald refuses such events", field: field.isEmpty ? nil : field)
        }
    }

    /// The event id as 32 lowercase hex digits: a UUID's dashes are dropped, a missing id is made up.
    static func eventID(_ given: String?, field: String) throws(APIError) -> String {
        guard let given else { return UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased() }
        let digits = given.replacingOccurrences(of: "-", with: "").lowercased()
        guard digits.utf8.count == 32, digits.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) })
        else {
            throw .badRequest("'\(given.prefix(64))' is not an event id (32 hex digits)", field: field)
        }
        return digits
    }

    /// A decoding error as a message about a field path (`exception.values[0].stacktrace.frames[1].lineno`).
    static func describe(_ error: any Error, prefix: String) -> APIError {
        guard let error = error as? DecodingError else {
            return .badRequest("the body cannot be read: \(error)", field: prefix.isEmpty ? nil : prefix)
        }
        func path(_ keys: [any CodingKey]) -> String? {
            var text = prefix
            for key in keys {
                if let index = key.intValue {
                    text += "[\(index)]"
                } else {
                    text += (text.isEmpty ? "" : ".") + key.stringValue
                }
            }
            return text.isEmpty ? nil : text
        }
        switch error {
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                let cause = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
                return .badRequest("the body is not valid JSON" + (cause.map { ": \($0)" } ?? ""),
                                   field: prefix.isEmpty ? nil : prefix)
            }
            return .badRequest(context.debugDescription, field: path(context.codingPath))
        case .keyNotFound(let key, let context):
            return .badRequest("'\(key.stringValue)' is required", field: path(context.codingPath + [key]))
        case .typeMismatch(let type, let context):
            return .badRequest("expected \(typeName(type))", field: path(context.codingPath))
        case .valueNotFound(let type, let context):
            return .badRequest("expected \(typeName(type)), found null", field: path(context.codingPath))
        @unknown default:
            return .badRequest("the body cannot be read", field: prefix.isEmpty ? nil : prefix)
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type: "an integer"
        case is Double.Type: "a number"
        case is Bool.Type: "true or false"
        case is [Any].Type: "a list"
        default:
            String(describing: type).hasPrefix("Array") ? "a list" : "an object"
        }
    }
}

/// Herald's own event format: a readable subset of Sentry's, every key checked.
///
/// ```json
/// {"level": "error", "message": "…", "environment": "production", "release": "1.4.2",
///  "exception": [{"type": "ValueError", "value": "…", "frames": [{"module": "…", "function": "…"}]}],
///  "tags": {"region": "eu"}, "user": {"id": "42"}, "fingerprint": ["…"], "timestamp": "2026-11-23T10:00:00Z"}
/// ```
struct HeraldEventBody: Decodable {
    var event: Event

    static let keys = [
        "event_id", "timestamp", "level", "message", "exception", "tags", "user", "environment", "release",
        "fingerprint", "platform", "transaction", "server_name", "logger", "extra", "request",
    ]

    init(from decoder: any Decoder) throws {
        let container = try StrictKeys.container(decoder, allowed: Self.keys)
        event = Event()
        event.eventID = try container.decodeIfPresent(String.self, forKey: .init("event_id"))
        event.timestamp = try container.decodeIfPresent(FlexibleTimestamp.self, forKey: .init("timestamp"))?.date
        if let name = try container.decodeIfPresent(String.self, forKey: .init("level")) {
            guard let level = Level(sdkName: name) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .init("level"), in: container,
                    debugDescription: "unknown level '\(name)'; expected one of \(Level.names.joined(separator: ", "))")
            }
            event.level = level
        }
        event.message = try container.decodeIfPresent(String.self, forKey: .init("message"))
        event.exceptions = try container.decodeIfPresent([ExceptionBody].self, forKey: .init("exception"))?.map(\.exception) ?? []
        event.tags = try container.decodeIfPresent([String: String].self, forKey: .init("tags"))?
            .sorted { $0.key < $1.key }.map { Event.Tag($0.key, $0.value) } ?? []
        event.user = try container.decodeIfPresent(UserBody.self, forKey: .init("user"))?.user
        event.environment = try container.decodeIfPresent(String.self, forKey: .init("environment"))
        event.release = try container.decodeIfPresent(String.self, forKey: .init("release"))
        event.fingerprint = try container.decodeIfPresent([String].self, forKey: .init("fingerprint"))
        event.platform = try container.decodeIfPresent(String.self, forKey: .init("platform"))
        event.transaction = try container.decodeIfPresent(String.self, forKey: .init("transaction"))
        event.serverName = try container.decodeIfPresent(String.self, forKey: .init("server_name"))
        event.logger = try container.decodeIfPresent(String.self, forKey: .init("logger"))
        event.extra = try container.decodeIfPresent([String: JSONValue].self, forKey: .init("extra")) ?? [:]
        event.request = try container.decodeIfPresent(RequestBody.self, forKey: .init("request"))?.request
        event.sdk = Event.SDK(name: "herald.api", version: "1")
    }

    struct ExceptionBody: Decodable {
        var exception: ExceptionInfo
        init(from decoder: any Decoder) throws {
            let container = try StrictKeys.container(decoder, allowed: ["type", "value", "module", "handled", "frames"])
            exception = ExceptionInfo(
                type: try container.decodeIfPresent(String.self, forKey: .init("type")),
                value: try container.decodeIfPresent(String.self, forKey: .init("value")),
                module: try container.decodeIfPresent(String.self, forKey: .init("module")),
                mechanism: try container.decodeIfPresent(Bool.self, forKey: .init("handled"))
                    .map { ExceptionInfo.Mechanism(type: "generic", handled: $0) },
                frames: try container.decodeIfPresent([FrameBody].self, forKey: .init("frames"))?.map(\.frame) ?? [])
            guard exception.type != nil || exception.value != nil else {
                throw DecodingError.keyNotFound(
                    StrictKeys("type"), .init(codingPath: decoder.codingPath, debugDescription: "type or value"))
            }
        }
    }

    struct FrameBody: Decodable {
        var frame: ExceptionInfo.Frame
        init(from decoder: any Decoder) throws {
            let keys = ["module", "function", "filename", "abs_path", "lineno", "in_app", "package", "context_line"]
            let container = try StrictKeys.container(decoder, allowed: keys)
            frame = ExceptionInfo.Frame(
                filename: try container.decodeIfPresent(String.self, forKey: .init("filename")),
                absPath: try container.decodeIfPresent(String.self, forKey: .init("abs_path")),
                module: try container.decodeIfPresent(String.self, forKey: .init("module")),
                function: try container.decodeIfPresent(String.self, forKey: .init("function")),
                package: try container.decodeIfPresent(String.self, forKey: .init("package")),
                lineno: try container.decodeIfPresent(Int.self, forKey: .init("lineno")),
                inApp: try container.decodeIfPresent(Bool.self, forKey: .init("in_app")),
                contextLine: try container.decodeIfPresent(String.self, forKey: .init("context_line")))
        }
    }

    struct UserBody: Decodable {
        var user: Event.User
        init(from decoder: any Decoder) throws {
            let container = try StrictKeys.container(decoder, allowed: ["id", "email", "username", "ip_address"])
            user = Event.User(
                id: try container.decodeIfPresent(JSONValue.self, forKey: .init("id"))?.scalarTexts.first,
                email: try container.decodeIfPresent(String.self, forKey: .init("email")),
                username: try container.decodeIfPresent(String.self, forKey: .init("username")),
                ipAddress: try container.decodeIfPresent(String.self, forKey: .init("ip_address")))
        }
    }

    struct RequestBody: Decodable {
        var request: Event.Request
        init(from decoder: any Decoder) throws {
            let container = try StrictKeys.container(decoder, allowed: ["url", "method"])
            request = Event.Request(
                url: try container.decodeIfPresent(String.self, forKey: .init("url")),
                method: try container.decodeIfPresent(String.self, forKey: .init("method")))
        }
    }
}

/// A coding key for objects whose every key is checked against a list.
struct StrictKeys: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }

    /// The object's container, after checking it has no key outside `allowed`.
    static func container(_ decoder: any Decoder, allowed: [String]) throws -> KeyedDecodingContainer<StrictKeys> {
        let container = try decoder.container(keyedBy: StrictKeys.self)
        for key in container.allKeys where !allowed.contains(key.stringValue) {
            throw DecodingError.dataCorrupted(.init(
                codingPath: container.codingPath + [key],
                debugDescription: "unknown field '\(key.stringValue)'; expected one of \(allowed.joined(separator: ", "))"))
        }
        return container
    }
}
