import Foundation

extension Event {
    /// The event as Sentry-shaped JSON, for events Herald makes itself (alerts raised from chat, test
    /// notifications): what `Event(from:)` reads back, and what the admin API shows as the payload.
    ///
    /// It holds the fields messages and rules read: id, time, level, message, environment, release, server,
    /// transaction, fingerprint, tags (an object, or a list of pairs when a key repeats) and the raised
    /// exception's type and value.
    public func sentryPayload() -> Data {
        var json: [String: any Sendable] = ["level": level.name]
        json["event_id"] = eventID
        json["timestamp"] = timestamp.map(Timestamp.text)
        json["message"] = message
        json["environment"] = environment
        json["release"] = release
        json["server_name"] = serverName
        json["transaction"] = transaction
        json["fingerprint"] = fingerprint
        if Set(tags.map(\.key)).count == tags.count {
            json["tags"] = Dictionary(uniqueKeysWithValues: tags.map { ($0.key, $0.value as any Sendable) })
        } else {
            json["tags"] = tags.map { [$0.key, $0.value] }
        }
        if let exception = exceptions.last {
            var value: [String: any Sendable] = [:]
            value["type"] = exception.type
            value["value"] = exception.value
            json["exception"] = ["values": [value]] as [String: any Sendable]
        }
        return Data(JSONWriter.text(json).utf8)
    }
}
