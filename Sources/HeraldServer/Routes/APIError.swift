import Foundation
import HeraldCore
import HTTPTypes
import Hummingbird

/// An error answer: its status, a JSON body `{"error": ..., "field": ...}`, and for ingestion the reason it
/// is counted under in `herald_events_rejected_total`.
public struct APIError: HTTPResponseError, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var message: String
    /// The request field at fault, as a path (`exception[0].frames[2].lineno`).
    public var field: String?
    /// The rejection reason for the metrics.
    public var reason: String
    /// Seconds, for 429 and 503.
    public var retryAfter: Int?

    public init(_ status: HTTPResponse.Status, _ message: String, field: String? = nil, reason: String, retryAfter: Int? = nil) {
        self.status = status
        self.message = message
        self.field = field
        self.reason = reason
        self.retryAfter = retryAfter
    }

    public var description: String { "\(status.code) \(field.map { "\($0): " } ?? "")\(message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var body: [String: String] = ["error": message]
        if let field { body["field"] = field }
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        // Sentry SDKs log this header when an event is refused.
        if request.uri.path.hasPrefix("/api/"), !request.uri.path.hasPrefix("/api/v1/") {
            headers[HTTPField.Name("X-Sentry-Error")!] = message
        }
        var text = ""
        JSONWriter.write(body, into: &text)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func badRequest(_ message: String, field: String? = nil) -> APIError {
        APIError(.badRequest, message, field: field, reason: "bad_request")
    }
    static func unauthorized(_ message: String) -> APIError {
        APIError(.unauthorized, message, reason: "unauthorized")
    }
    static func notFound(_ message: String) -> APIError {
        APIError(.notFound, message, reason: "unknown_project")
    }
}
