import Foundation
import HeraldConfig
import HeraldCore
import HeraldHTTP

/// The JSON a webhook receives for one alert.
public enum WebhookBody {
    /// The body: the issue, the event as received, the matched rules, the requested tags and Herald's URL
    /// for the issue. `delivery` is the outbox row's id, the same on every retry, so receivers can drop repeats.
    public static func make(_ alert: AlertMessage, eventPayload: Data?, delivery: Int64) -> [UInt8] {
        var issue: [String: any Sendable] = [
            "id": alert.issueID, "short_id": alert.shortID, "title": alert.title, "level": alert.level.name,
            "status": alert.status.rawValue, "project": alert.project, "url": alert.url,
            "first_seen": Timestamp.text(alert.firstSeen), "last_seen": Timestamp.text(alert.lastSeen),
            "times_seen": alert.events, "users_seen": alert.users,
        ]
        issue["culprit"] = alert.culprit
        issue["assignee"] = alert.assignee
        var tags: [String: any Sendable] = [:]
        for tag in alert.tags { tags[tag.key] = tag.value.map { $0 as any Sendable } ?? JSONNull() }
        var body: [String: any Sendable] = [
            "version": 1, "delivery_id": delivery, "issue": issue, "event_id": alert.eventID, "rules": alert.rules,
            "tags": tags, "notes": alert.notes, "url": alert.url, "test": alert.isTest,
        ]
        body["event"] = eventPayload.map(RawJSON.init(data:))
        return Array(JSONWriter.text(body).utf8)
    }
}

/// Posts alerts to one webhook, signed when it has a secret.
public struct WebhookClient: Sendable {
    public let webhook: Config.Webhook
    private let http: HTTPClient

    public init(webhook: Config.Webhook, http: HTTPClient) {
        self.webhook = webhook
        self.http = http
    }

    /// The request: JSON, `X-Herald-Delivery` with the outbox row's id, and `X-Herald-Signature:
    /// sha256=<hex of HMAC-SHA256(secret, body)>` when the webhook has a secret.
    public func request(body: [UInt8], delivery: Int64) -> HTTPClient.Request {
        var headers = [
            ("Content-Type", "application/json"), ("User-Agent", "Herald"), ("X-Herald-Delivery", String(delivery)),
        ]
        if let secret = webhook.secret {
            headers.append(("X-Herald-Signature", "sha256=" + Signing.hmacSHA256Hex(key: Array(secret.value.utf8), message: body)))
        }
        return HTTPClient.Request("POST", webhook.url, headers: headers, body: body)
    }

    /// Posts; any 2xx is success.
    public func post(body: [UInt8], delivery: Int64) async throws(ChatFailure) {
        let response = try await ChatFailure.answer {
            try await http.send(request(body: body, delivery: delivery))
        }
        if (200..<300).contains(response.status) { return }
        if let failure = ChatFailure.status(response) { throw failure }
        throw .permanent(code: ChatFailure.Code.http(response.status), detail: ChatFailure.snippet(response) ?? "")
    }

    /// The exact answer, for `herald test-connection`.
    public func send(body: [UInt8], delivery: Int64) async throws -> HTTPClient.Response {
        try await http.send(request(body: body, delivery: delivery))
    }
}
