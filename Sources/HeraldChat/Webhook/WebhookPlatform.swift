import Foundation
import HeraldConfig
import HeraldCore
import HeraldHTTP

/// A webhook as a place to send alerts: one JSON POST per alert, signed when it has a secret. No channels,
/// no threads, no updates.
public struct WebhookPlatform: ChatPlatform {
    public let webhook: Config.Webhook
    public let client: WebhookClient

    public var kind: DeliveryKind { .webhook }
    public var target: String { webhook.name }
    public var fallbackChannel: String? { nil }

    public init(webhook: Config.Webhook, http: HTTPClient) {
        self.webhook = webhook
        client = WebhookClient(webhook: webhook, http: http)
    }

    static func platforms(config: Config, context: PlatformContext) -> [any ChatPlatform] {
        config.webhooks.map { WebhookPlatform(webhook: $0, http: context.http) }
    }

    public func post(_ alert: OutgoingAlert, to address: String?) async throws(ChatFailure) -> PostedMessage? {
        let body = WebhookBody.make(alert.alert, eventPayload: alert.eventPayload, delivery: alert.deliveryID)
        try await client.post(body: body, delivery: alert.deliveryID)
        return nil
    }

    public func testConnection(channel: String?, text: String) async throws(ConnectionTestProblem) -> ConnectionReport {
        let body = Array(JSONWriter.text([
            "version": 1, "test": true, "text": text, "delivery_id": 0,
        ] as [String: any Sendable]).utf8)
        let exchange = await ConnectionReport.Exchange.capture("POST \(webhook.url)") {
            try await client.send(body: body, delivery: 0)
        }
        return ConnectionReport(kind: kind, target: target, exchanges: [exchange], succeeded: exchange.isSuccess)
    }
}
