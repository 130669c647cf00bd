import Foundation
import HTTPTypes
import HeraldConfig
import HeraldCore
import HeraldStore
import Hummingbird
import NIOCore

/// The event endpoints: Sentry's envelope and store endpoints, and Herald's own `POST /api/v1/events`.
struct IngestRoutes {
    let projects: ProjectDirectory
    let pipeline: IngestPipeline
    let metrics: HeraldMetrics
    let maxBodyBytes: Int
    /// Seconds a body may take to arrive.
    let bodyTimeout: Double
    /// The server's new-issue limit, for projects without their own.
    let newIssues: Config.NewIssueLimit
    /// The bytes of bodies all ingest requests may hold at once.
    let bodies: BodyBudget
    /// What is filtered out of every event before it is read further.
    let scrubber: Scrubber?

    enum Endpoint {
        case envelope, store, herald
    }

    func register(on router: Router<HeraldRequestContext>) {
        router.post("/api/:project/envelope") { request, context in
            try await ingest(request, context: context, endpoint: .envelope)
        }
        router.post("/api/:project/store") { request, context in
            try await ingest(request, context: context, endpoint: .store)
        }
        router.post("/api/v1/events") { request, context in
            try await ingest(request, context: context, endpoint: .herald)
        }
    }

    /// Authenticates, admits, reads, parses and submits; answers once the events are committed. Any error
    /// answer leaves the database untouched.
    private func ingest(_ request: Request, context: HeraldRequestContext, endpoint: Endpoint) async throws -> Response {
        do {
            let project = try authenticate(request, context: context, endpoint: endpoint)
            guard pipeline.admit() else {
                throw APIError(.tooManyRequests, "Herald is busy; retry after the given seconds",
                               reason: "queue_full", retryAfter: 1)
            }
            defer { pipeline.release() }
            let encoding = try contentEncoding(request)
            let announced = try announcedLength(request)
            // The body's bytes are reserved before it is read: as announced, or the most it may be.
            var held = announced ?? maxBodyBytes
            guard bodies.reserve(held) else { throw budgetFull() }
            defer { bodies.release(held) }
            let raw = try await collectBody(request)
            if announced == nil {
                bodies.release(held - raw.readableBytes)
                held = raw.readableBytes
            }
            let body = try inflate(raw, encoding: encoding)
            if encoding != .identity {
                guard bodies.reserve(body.count) else { throw budgetFull() }
                held += body.count
            }
            let events = try Self.parse(body, endpoint: endpoint, project: project, scrubber: scrubber)
            let outcomes: [IngestOutcome]
            do {
                outcomes = try await pipeline.submit(events.incoming)
            } catch IngestPipeline.Failure.closed {
                throw APIError(.serviceUnavailable, "Herald is shutting down", reason: "failed", retryAfter: 5)
            } catch {
                throw APIError(.serviceUnavailable, "the events could not be stored; retry", reason: "failed",
                               retryAfter: 1)
            }
            for case .failed(let eventID, _) in outcomes {
                throw APIError(.internalServerError, "event \(eventID) could not be stored", reason: "failed")
            }
            let waits = outcomes.compactMap { outcome -> Double? in
                if case .rateLimited(_, _, let wait) = outcome { return wait }
                return nil
            }
            if let wait = waits.max() {
                let limit = project.newIssues ?? newIssues
                throw APIError(
                    .tooManyRequests,
                    "project '\(project.slug)' may open \(limit.perMinute) new issues a minute, \(limit.burst) at once "
                        + "(new_issues); \(waits.count) event(s) that would open one were not stored",
                    reason: "rate_limited", retryAfter: Int(min(3_600, wait.rounded(.up))))
            }
            let id = events.incoming.first?.eventID ?? events.envelopeID
            let json = id.map { #"{"id":"\#($0)"}"# } ?? "{}"
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: json)))
        } catch let error as APIError {
            metrics.eventsRejected(reason: error.reason).increment()
            throw error
        }
    }

    // MARK: Steps

    private func authenticate(_ request: Request, context: HeraldRequestContext, endpoint: Endpoint) throws(APIError)
        -> Config.Project
    {
        switch endpoint {
        case .herald:
            guard let token = BearerToken(request.headers[.authorization]) else {
                throw .unauthorized("send the project key as 'Authorization: Bearer <key>'")
            }
            guard let project = projects.project(key: token.value) else {
                throw .unauthorized("the key is not a key of any project")
            }
            return project
        case .envelope, .store:
            let idText = context.parameters.get("project") ?? ""
            guard let id = Int(idText), let project = projects.project(id: id) else {
                throw .notFound("no project with id '\(idText.prefix(40))'")
            }
            guard let key = SentryAuth.key(request) else {
                throw .unauthorized(
                    "missing sentry_key: send 'X-Sentry-Auth: Sentry sentry_key=<key>, …' or '?sentry_key=<key>'")
            }
            guard projects.project(id: id, accepts: key) else {
                throw .unauthorized("the key is not a key of project \(id)")
            }
            return project
        }
    }

    private func contentEncoding(_ request: Request) throws(APIError) -> ContentEncoding {
        guard let encoding = ContentEncoding(header: request.headers[.contentEncoding]) else {
            throw APIError(.unsupportedMediaType,
                           "Content-Encoding '\(request.headers[.contentEncoding] ?? "")' is not supported; use gzip or deflate",
                           field: "Content-Encoding", reason: "unsupported_encoding")
        }
        return encoding
    }

    /// The body's length as `Content-Length` gives it; nil when it is not given.
    private func announcedLength(_ request: Request) throws(APIError) -> Int? {
        guard let length = request.headers[.contentLength].flatMap(Int.init) else { return nil }
        guard (0...maxBodyBytes).contains(length) else { throw tooLarge() }
        return length
    }

    private func budgetFull() -> APIError {
        APIError(.tooManyRequests,
                 "Herald holds as many request bytes as it may (server.ingest_body_budget_bytes); retry after the given seconds",
                 reason: "body_budget", retryAfter: 1)
    }

    private func inflate(_ buffer: ByteBuffer, encoding: ContentEncoding) throws(APIError) -> [UInt8] {
        do {
            return try BodyDecompression.inflate(Array(buffer.readableBytesView), encoding: encoding, limit: maxBodyBytes)
        } catch .tooLarge {
            throw tooLarge(decompressed: true)
        } catch {
            throw APIError.badRequest(
                "the \(encoding) body cannot be decompressed: \(error.reason ?? "corrupt")", field: "body")
        }
    }

    /// The body, read within `bodyTimeout`: a client that trickles its body holds a place in the ingest queue,
    /// so past the deadline the read stops, the place is freed, and the client is answered 408.
    private func collectBody(_ request: Request) async throws -> ByteBuffer {
        do {
            return try await request.readBody(upTo: maxBodyBytes, within: bodyTimeout)
        } catch let error as APIError where error.status == .contentTooLarge {
            throw tooLarge()
        }
    }

    private func tooLarge(decompressed: Bool = false) -> APIError {
        APIError(.contentTooLarge,
                 "the body is larger than \(maxBodyBytes) bytes\(decompressed ? " once decompressed" : "")",
                 reason: "too_large")
    }

    struct ParsedEvents {
        var incoming: [IncomingEvent]
        var envelopeID: String?
    }

    /// The events in a decompressed body, as the endpoint reads them; the fuzzers call it as the route does.
    /// The events of a body. Each event's JSON is scrubbed after its shape is checked and before it is decoded
    /// (`EventDecoding`), so the stored payload and everything built from the event see only what may be kept.
    static func parse(
        _ body: [UInt8], endpoint: Endpoint, project: Config.Project, scrubber: Scrubber? = nil
    ) throws(APIError) -> ParsedEvents {
        func incoming(_ event: Event, payload: Data) -> IncomingEvent {
            IncomingEvent(projectID: project.id, projectSlug: project.slug, event: event, grouping: Grouping(event: event),
                          payload: payload)
        }
        switch endpoint {
        case .herald:
            var payload = Data(body)
            let event = try EventDecoding.heraldEvent(&payload, scrubber: scrubber)
            return ParsedEvents(incoming: [incoming(event, payload: payload)])
        case .store:
            var payload = Data(body)
            let event = try EventDecoding.sentryEvent(&payload, fallbackID: nil, field: "", scrubber: scrubber)
            return ParsedEvents(incoming: [incoming(event, payload: payload)])
        case .envelope:
            let envelope = try SentryEnvelope(parsing: body)
            var events: [IncomingEvent] = []
            for (index, item) in envelope.items.enumerated() where item.type == "event" {
                var payload = Data(item.payload)
                let event = try EventDecoding.sentryEvent(
                    &payload, fallbackID: envelope.eventID, field: "envelope.items[\(index)]", scrubber: scrubber)
                events.append(incoming(event, payload: payload))
            }
            return ParsedEvents(incoming: events, envelopeID: envelope.eventID)
        }
    }
}

/// `Authorization: Bearer <token>`.
struct BearerToken {
    var value: String

    init?(_ header: String?) {
        guard let header else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        guard !token.isEmpty else { return nil }
        value = token
    }
}

/// Where Sentry SDKs put the project key.
enum SentryAuth {
    static let header = HTTPField.Name("X-Sentry-Auth")!

    /// From `X-Sentry-Auth: Sentry sentry_key=…, sentry_version=7`, `Authorization: Sentry …`, or the
    /// `sentry_key` query parameter. Read on every event, so the header is scanned as bytes.
    static func key(_ request: Request) -> String? {
        for value in [request.headers[header], request.headers[.authorization]] {
            if let value, let key = key(inHeader: value) { return key }
        }
        if let key = request.uri.queryParameters["sentry_key"], !key.isEmpty { return String(key) }
        return nil
    }

    /// The `sentry_key` of a `Sentry key=value, key=value` header.
    static func key(inHeader value: String) -> String? {
        let tokens = value.utf8.split { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: " ") }
        guard let token = tokens.first(where: { $0.starts(with: keyPrefix) }) else { return nil }
        let key = token.dropFirst(keyPrefix.count)
        return key.isEmpty ? nil : String(decoding: key, as: UTF8.self)
    }

    private static let keyPrefix = Array("sentry_key=".utf8)
}

/// The configured projects, found by id or key.
struct ProjectDirectory: Sendable {
    private let byID: [Int: Config.Project]
    /// In id order, so that a key two projects share (a config mistake) always finds the same one.
    private let ordered: [Config.Project]

    init(_ projects: [Config.Project]) {
        byID = Dictionary(projects.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        ordered = byID.values.sorted { $0.id < $1.id }
    }

    func project(id: Int) -> Config.Project? { byID[id] }

    func project(slug: String) -> Config.Project? { ordered.first { $0.slug == slug } }

    func project(id: Int, accepts key: String) -> Bool {
        byID[id]?.keys.contains { ConstantTime.equal($0.value, key) } ?? false
    }

    func project(key: String) -> Config.Project? {
        ordered.first { project in project.keys.contains { ConstantTime.equal($0.value, key) } }
    }
}
