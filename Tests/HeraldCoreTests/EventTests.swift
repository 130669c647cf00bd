import Foundation
import HeraldCore
import Testing

@Suite struct EventDecodingTests {
    /// Shaped like what sentry-python sends in an envelope's event item.
    static let sdkEvent = """
        {"event_id": "9f2c1e0a7b5d4c3e8a1b2c3d4e5f6a7b", "timestamp": "2026-11-23T10:15:30.123456Z",
         "platform": "python", "level": "error", "logger": "app", "server_name": "web-1", "release": "shop@2.1.0",
         "environment": "production", "transaction": "/checkout",
         "exception": {"values": [{"type": "TimeoutError", "value": "read timed out", "module": "socket",
           "mechanism": {"type": "excepthook", "handled": false},
           "stacktrace": {"frames": [{"filename": "app/pay.py", "abs_path": "/srv/app/pay.py", "module": "app.pay",
             "function": "charge", "lineno": 88, "in_app": true, "context_line": "resp = client.post(url)"}]}}]},
         "tags": [["customer_tier", "enterprise"], ["region", "eu-west-1"]],
         "user": {"id": 42, "email": "ann@example.com", "ip_address": "{{auto}}"},
         "request": {"url": "https://shop.example.com/checkout", "method": "POST", "headers": {"X": "y"}},
         "sdk": {"name": "sentry.python", "version": "2.19.0", "packages": []},
         "extra": {"order": {"id": 981}}, "contexts": {"runtime": {"name": "CPython"}}, "breadcrumbs": {"values": []}}
        """

    @Test func decodesWhatSDKsSend() throws {
        let event = try JSONDecoder().decode(Event.self, from: Data(Self.sdkEvent.utf8))
        #expect(event.eventID == "9f2c1e0a7b5d4c3e8a1b2c3d4e5f6a7b")
        #expect(event.timestamp == FlexibleTimestamp.parse("2026-11-23T10:15:30.123456Z"))
        #expect(event.level == .error)
        #expect(event.release == "shop@2.1.0")
        #expect(event.exceptions == [ExceptionInfo(
            type: "TimeoutError", value: "read timed out", module: "socket",
            mechanism: .init(type: "excepthook", handled: false),
            frames: [.init(filename: "app/pay.py", absPath: "/srv/app/pay.py", module: "app.pay", function: "charge",
                           lineno: 88, inApp: true, contextLine: "resp = client.post(url)")])])
        #expect(event.tags == [.init("customer_tier", "enterprise"), .init("region", "eu-west-1")])
        #expect(event.user == .init(id: "42", email: "ann@example.com", ipAddress: "{{auto}}"))
        #expect(event.request == .init(url: "https://shop.example.com/checkout", method: "POST"))
        #expect(event.values(of: .extra(path: "order.id")) == ["981"])
        #expect(event.type == "error")
    }

    @Test func acceptsTheOtherShapesOfMessageTagsAndTime() throws {
        let event = try JSONDecoder().decode(Event.self, from: Data("""
            {"message": {"formatted": "User 5 failed", "message": "User %s failed", "params": [5]},
             "tags": {"b": "2", "a": true}, "timestamp": 1790000000.5, "level": "warn", "exception": [{"type": "E"}]}
            """.utf8))
        #expect(event.message == "User 5 failed")
        #expect(event.tags == [.init("a", "true"), .init("b", "2")])
        #expect(event.timestamp == Date(timeIntervalSince1970: 1_790_000_000.5))
        #expect(event.level == .warning)
        #expect(event.exceptions.map(\.type) == ["E"])

        let logentry = try JSONDecoder().decode(Event.self, from: Data(#"{"logentry": {"message": "plain"}}"#.utf8))
        #expect(logentry.message == "plain")
        #expect(logentry.level == .error)
        #expect(logentry.type == "default")
    }

    @Test(arguments: [
        #"{"level": "loud"}"#, #"{"timestamp": "yesterday"}"#, #"{"tags": [["only-key"]]}"#, #"{"exception": 5}"#,
        // Timestamps no clock gives: each once reached date arithmetic that traps.
        #"{"timestamp": 1e300}"#, #"{"timestamp": -1}"#, #"{"timestamp": "inf"}"#, #"{"timestamp": "nan"}"#,
        #"{"timestamp": "1e300"}"#, #"{"timestamp": 253402300800}"#,
    ])
    func rejectsMalformedFields(_ json: String) {
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Event.self, from: Data(json.utf8)) }
    }

    @Test func timestampsWithoutAZoneAreUTC() {
        #expect(FlexibleTimestamp.parse("2026-11-23T10:00:00") == FlexibleTimestamp.parse("2026-11-23T10:00:00Z"))
        #expect(FlexibleTimestamp.parse("2026-11-23T12:00:00+02:00") == FlexibleTimestamp.parse("2026-11-23T10:00:00Z"))
    }
}

@Suite struct EventAttributeTests {
    @Test func everyDocumentedNameReadsBack() {
        for name in EventAttribute.names where name != "extra.<path>" {
            #expect(EventAttribute(name: name)?.description == name)
        }
        #expect(EventAttribute(name: "extra.a.b") == .extra(path: "a.b"))
        #expect(EventAttribute(name: "extra.") == nil)
        #expect(EventAttribute(name: "exception") == nil)
    }

    @Test func multiValuedAttributesYieldEveryValue() {
        let event = Event(exceptions: [
            ExceptionInfo(type: "A", mechanism: .init(handled: true), frames: [.init(module: "m1"), .init(module: "m2")]),
            ExceptionInfo(type: "B", frames: [.init(module: "m3")]),
        ], tags: [.init("Env", "x"), .init("env", "y")])
        #expect(event.values(of: .exceptionType) == ["A", "B"])
        #expect(event.values(of: .stacktraceModule) == ["m1", "m2", "m3"])
        #expect(event.values(of: .errorHandled) == ["true"])  // only exceptions that say
        #expect(event.values(of: .errorUnhandled) == ["false"])
        #expect(event.tagValues("ENV") == ["x", "y"])
    }

    @Test func levelsOrderAndAliases() {
        #expect(Level.debug < Level.info && Level.info < Level.warning && Level.warning < Level.error && Level.error < Level.fatal)
        #expect(Level(sdkName: "critical") == .fatal)
        #expect(Level(sdkName: "WARN") == Level.warning)
        #expect(Level(name: "warn") == nil)
    }
}

@Suite struct TextMatchingTests {
    @Test(arguments: [
        ("Region", "region", true), ("REGION", "region", true), ("region", "regions", false), ("", "", true),
        ("Ärger", "ärger", true), ("STRASSE", "strasse", true), ("eu-west-1", "EU-WEST-1", true), ("a", "b", false),
        ("\u{212A}elvin", "kelvin", true),  // the Kelvin sign lowercases to an ASCII k
    ])
    func equalsIgnoringCase(_ left: String, _ right: String, _ expected: Bool) {
        #expect(left.equalsIgnoringCase(right) == expected)
    }

    @Test(arguments: [
        ("https://shop.example.com/checkout", "/checkout", true), ("abc", "", true), ("abc", "abcd", false),
        ("aaab", "aab", true), ("grüße", "üß", true), ("grüße", "us", false),
    ])
    func containsText(_ haystack: String, _ needle: String, _ expected: Bool) {
        #expect(haystack.containsText(needle) == expected)
    }
}

@Suite struct TimestampTests {
    @Test(arguments: [
        ("2026-11-23T10:15:30Z", 1_795_428_930.0),
        ("2026-11-23T10:15:30.5Z", 1_795_428_930.5),
        ("2026-11-23T10:15:30.123456Z", 1_795_428_930.123456),
        ("2026-11-23t10:15:30z", 1_795_428_930.0),
        ("2026-11-23T12:15:30+02:00", 1_795_428_930.0),
        ("2026-11-23T05:15:30-0500", 1_795_428_930.0),
        ("2026-11-23T10:15:30", 1_795_428_930.0),
        ("2024-02-29T00:00:00Z", 1_709_164_800.0),
        ("1970-01-01T00:00:00Z", 0.0),
        ("1969-12-31T23:59:59Z", -1.0),
        ("1795428930.25", 1_795_428_930.25),
    ])
    func parsesRFC3339(text: String, seconds: Double) throws {
        let date = try #require(FlexibleTimestamp.parse(text))
        #expect(abs(date.timeIntervalSince1970 - seconds) < 1e-6)
    }

    @Test(arguments: ["", "2026-11-23", "2026-13-01T00:00:00Z", "2026-11-23T25:00:00Z", "2026-11-23T10:15:30.Z",
                      "2026-11-23T10:15:30Zjunk", "2026-11-23T10:15:30+2"])
    func rejectsWhatIsNotATimestamp(text: String) {
        #expect(FlexibleTimestamp.parse(text) == nil)
    }
}
