import Foundation
import HeraldStore
import HeraldTestSupport
import Testing

/// One request Herald must refuse, and how.
struct RejectedRequest: CustomTestStringConvertible, Sendable {
    var name: String
    var request: HTTPTestRequest
    var status: Int
    /// The field the error names, when it names one.
    var field: String?
    /// A part of the error message.
    var message: String
    /// The reason counted in herald_events_rejected_total.
    var reason: String

    var testDescription: String { name }
}

private let event = Envelope.errorEvent(id: hexID(99))
private let envelope = Envelope.build(items: [("event", event)])
private let bearer = ("Authorization", "Bearer pk-1")
private let maxBody = 4_096

private let rejected: [RejectedRequest] = [
    RejectedRequest(
        name: "envelope header is not JSON",
        request: HTTPTestRequest("POST", "/api/1/envelope/", headers: [sentryAuth], body: Array("not json\n".utf8)),
        status: 400, field: "envelope", message: "envelope header", reason: "bad_request"),
    RejectedRequest(
        name: "envelope item without a type",
        request: HTTPTestRequest("POST", "/api/1/envelope/", headers: [sentryAuth], body: Array("{}\n{\"length\":2}\n{}\n".utf8)),
        status: 400, field: "envelope.items[0].type", message: "no 'type'", reason: "bad_request"),
    RejectedRequest(
        name: "envelope item longer than the body",
        request: HTTPTestRequest("POST", "/api/1/envelope/", headers: [sentryAuth],
                                 body: Array("{}\n{\"type\":\"event\",\"length\":500}\n{}\n".utf8)),
        status: 400, field: "envelope.items[0].length", message: "500 bytes", reason: "bad_request"),
    RejectedRequest(
        name: "event item is not JSON",
        request: HTTPTestRequest("POST", "/api/1/envelope/", headers: [sentryAuth],
                                 body: Envelope.build(items: [("event", "{oops")])),
        status: 400, field: "envelope.items[0]", message: "not valid JSON", reason: "bad_request"),
    RejectedRequest(
        name: "event level of the wrong type",
        request: HTTPTestRequest("POST", "/api/1/envelope/", headers: [sentryAuth],
                                 body: Envelope.build(items: [("event", #"{"level": 40, "message": "x"}"#)])),
        status: 400, field: "envelope.items[0].level", message: "expected a string", reason: "bad_request"),
    RejectedRequest(
        name: "frame line number of the wrong type",
        request: HTTPTestRequest("POST", "/api/1/store/", headers: [sentryAuth], json: #"""
            {"exception": {"values": [{"type": "E", "stacktrace": {"frames": [{"lineno": "forty"}]}}]}}
            """#),
        status: 400, field: "exception.values[0].stacktrace.frames[0].lineno", message: "expected an integer",
        reason: "bad_request"),
    RejectedRequest(
        name: "malformed event id",
        request: HTTPTestRequest("POST", "/api/1/store/", headers: [sentryAuth], json: #"{"event_id": "xyz", "message": "m"}"#),
        status: 400, field: "event_id", message: "32 hex digits", reason: "bad_request"),
    RejectedRequest(
        name: "own API: unknown field",
        request: HTTPTestRequest("POST", "/api/v1/events", headers: [bearer], json: #"{"message": "m", "colour": "red"}"#),
        status: 400, field: "colour", message: "unknown field 'colour'", reason: "bad_request"),
    RejectedRequest(
        name: "own API: unknown level",
        request: HTTPTestRequest("POST", "/api/v1/events", headers: [bearer], json: #"{"message": "m", "level": "loud"}"#),
        status: 400, field: "level", message: "unknown level 'loud'", reason: "bad_request"),
    RejectedRequest(
        name: "own API: nested field of the wrong type",
        request: HTTPTestRequest("POST", "/api/v1/events", headers: [bearer], json: #"""
            {"exception": [{"type": "E", "frames": [{"function": "f", "lineno": "x"}]}]}
            """#),
        status: 400, field: "exception[0].frames[0].lineno", message: "expected an integer", reason: "bad_request"),
    RejectedRequest(
        name: "own API: neither message nor exception",
        request: HTTPTestRequest("POST", "/api/v1/events", headers: [bearer], json: #"{"level": "error"}"#),
        status: 400, field: "message", message: "'message' or an 'exception'", reason: "bad_request"),
    RejectedRequest(
        name: "own API: body is not JSON",
        request: HTTPTestRequest("POST", "/api/v1/events", headers: [bearer], json: "message=hello"),
        status: 400, field: nil, message: "not valid JSON", reason: "bad_request"),
    RejectedRequest(
        name: "own API: tags must be text",
        request: HTTPTestRequest("POST", "/api/v1/events", headers: [bearer], json: #"{"message": "m", "tags": {"n": 1}}"#),
        status: 400, field: "tags.n", message: "expected a string", reason: "bad_request"),
    RejectedRequest(
        name: "no key",
        request: HTTPTestRequest("POST", "/api/1/envelope/", body: envelope),
        status: 401, field: nil, message: "missing sentry_key", reason: "unauthorized"),
    RejectedRequest(
        name: "wrong key",
        request: HTTPTestRequest("POST", "/api/1/envelope/", headers: [("X-Sentry-Auth", "Sentry sentry_key=nope")],
                                 body: envelope),
        status: 401, field: nil, message: "not a key of project 1", reason: "unauthorized"),
    RejectedRequest(
        name: "another project's key",
        request: HTTPTestRequest("POST", "/api/1/envelope/?sentry_key=wk-2", body: envelope),
        status: 401, field: nil, message: "not a key of project 1", reason: "unauthorized"),
    RejectedRequest(
        name: "own API: no bearer token",
        request: HTTPTestRequest("POST", "/api/v1/events", json: #"{"message": "m"}"#),
        status: 401, field: nil, message: "Authorization: Bearer", reason: "unauthorized"),
    RejectedRequest(
        name: "own API: unknown key",
        request: HTTPTestRequest("POST", "/api/v1/events", headers: [("Authorization", "Bearer wrong")], json: #"{"message": "m"}"#),
        status: 401, field: nil, message: "not a key of any project", reason: "unauthorized"),
    RejectedRequest(
        name: "unknown project",
        request: HTTPTestRequest("POST", "/api/99/envelope/", headers: [sentryAuth], body: envelope),
        status: 404, field: nil, message: "no project with id '99'", reason: "unknown_project"),
    RejectedRequest(
        name: "project id that is not a number",
        request: HTTPTestRequest("POST", "/api/payments/store/", headers: [sentryAuth], json: event),
        status: 404, field: nil, message: "no project with id 'payments'", reason: "unknown_project"),
    RejectedRequest(
        name: "body over the limit",
        request: HTTPTestRequest("POST", "/api/v1/events", headers: [bearer],
                                 json: #"{"message": "\#(String(repeating: "x", count: maxBody))"}"#),
        status: 413, field: nil, message: "larger than \(maxBody) bytes", reason: "too_large"),
    RejectedRequest(
        name: "body over the limit once decompressed",
        request: HTTPTestRequest(
            "POST", "/api/v1/events", headers: [bearer, ("Content-Encoding", "gzip")],
            body: Compression.gzip(Array(#"{"message": "\#(String(repeating: "x", count: 100_000))"}"#.utf8))),
        status: 413, field: nil, message: "once decompressed", reason: "too_large"),
    RejectedRequest(
        name: "corrupt gzip",
        request: HTTPTestRequest("POST", "/api/1/envelope/", headers: [sentryAuth, ("Content-Encoding", "gzip")],
                                 body: Array(Compression.gzip(envelope).dropLast(9))),
        status: 400, field: "body", message: "cannot be decompressed", reason: "bad_request"),
    RejectedRequest(
        name: "bytes after the end of the gzip data",
        request: HTTPTestRequest("POST", "/api/1/envelope/", headers: [sentryAuth, ("Content-Encoding", "gzip")],
                                 body: Compression.gzip(envelope) + [0, 1, 2]),
        status: 400, field: "body", message: "3 bytes follow the end of the compressed data", reason: "bad_request"),
    RejectedRequest(
        name: "bytes after the end of the deflate data",
        request: HTTPTestRequest("POST", "/api/1/envelope/", headers: [sentryAuth, ("Content-Encoding", "deflate")],
                                 body: Compression.zlib(envelope) + Compression.zlib(envelope)),
        status: 400, field: "body", message: "follow the end of the compressed data", reason: "bad_request"),
    RejectedRequest(
        name: "unsupported encoding",
        request: HTTPTestRequest("POST", "/api/1/envelope/", headers: [sentryAuth, ("Content-Encoding", "br")], body: envelope),
        status: 415, field: "Content-Encoding", message: "'br' is not supported", reason: "unsupported_encoding"),
] + [
    ("Herald's API", HTTPTestRequest("POST", "/api/v1/events", headers: [bearer], json: deeplyNested), nil),
    ("Sentry's store endpoint", HTTPTestRequest("POST", "/api/1/store/", headers: [sentryAuth], json: deeplyNested), nil),
    ("an envelope", HTTPTestRequest("POST", "/api/1/envelope/", headers: [sentryAuth],
                                    body: Envelope.build(items: [("event", deeplyNested)])), "envelope.items[0]"),
].map { place, request, field in
    RejectedRequest(
        name: "JSON nested too deep, \(place)", request: request, status: 400, field: field,
        message: "nests arrays and objects more than 64 deep", reason: "bad_request")
}

/// JSON nested hundreds deep, repeated in sibling values: a few kilobytes that once cost event decoding
/// seconds of CPU each. Refused by the shape check before any decoder runs.
let deeplyNested: String = {
    let nest = String(repeating: "[", count: 400) + String(repeating: "]", count: 400)
    return #"{"message": "boom", "extra": {"a": \#(nest), "b": \#(nest), "c": \#(nest)}}"#
}()

@Suite struct IngestErrorTests {
    @Test(arguments: rejected)
    func rejectedRequestsChangeNothing(_ case_: RejectedRequest) async throws {
        let directory = TemporaryDirectory()
        let config = RunningServer.configYAML(directory: directory.path).replacingOccurrences(
            of: "  port: 0", with: "  port: 0\n  max_body_bytes: \(maxBody)")
        let server = try await RunningServer(rules: ["payments.yaml": paymentsRules], configYAML: config, directory: directory)
        let response = try await server.send(case_.request)
        #expect(response.status == case_.status, "\(response.text)")
        #expect(response.headers["content-type"] == "application/json")
        let message = try #require(response.json["error"] as? String, "\(response.text)")
        #expect(message.contains(case_.message), "\(message)")
        #expect(response.json["field"] as? String == case_.field)
        if case_.request.path.hasPrefix("/api/1") || case_.request.path.hasPrefix("/api/99") {
            #expect(response.headers["x-sentry-error"] == message)
        }

        let page = try await server.server.store.issues(IssueQuery())
        #expect(page.issues.isEmpty)
        #expect(try await server.server.store.outboxDepth() == 0)
        let metrics = try await server.send(HTTPTestRequest("GET", "/metrics")).text
        #expect(metrics.contains(#"herald_events_rejected_total{reason="\#(case_.reason)"} 1"#), "\(metrics)")
        try await server.stop()
    }
}
