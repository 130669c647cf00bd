import Foundation
import HeraldCore
import HeraldStore

/// One stored event as the issue page shows it: the message, the exception chain with each stack trace
/// (most recent call first, the application's frames shown and the others folded), and its context tables.
struct EventView {
    var eventID: String
    var latest: Bool
    var received: Moment
    var release: String?
    var environment: String?
    var message: String?
    var exceptions: [ExceptionView]
    var sections: [Section]

    struct ExceptionView {
        var type: String
        var value: String?
        var mechanism: String?
        var inApp: [FrameView]
        var other: [FrameView]
        /// Nil when there are none to fold.
        var otherCount: Int?
    }

    struct FrameView {
        var function: String
        var `where`: String
        var context: String?
    }

    struct Section {
        var title: String
        var rows: [KeyValue]
    }

    init(stored: StoredEvent, event: Event?, latest: Bool) {
        eventID = stored.eventID
        self.latest = latest
        received = Moment(stored.receivedAt)
        release = stored.release
        environment = stored.environment
        guard let event else {
            message = "This event's stored JSON could not be read."
            exceptions = []
            sections = []
            return
        }
        message = event.message
        // Sentry lists a chain innermost last; the page shows the exception that was raised last first.
        exceptions = event.exceptions.reversed().map(Self.exception)
        var sections: [Section] = []
        if !event.tags.isEmpty {
            sections.append(Section(title: "Tags", rows: event.tags.map { KeyValue(key: $0.key, value: $0.value) }))
        }
        if let user = event.user {
            let rows = [("id", user.id), ("email", user.email), ("username", user.username), ("ip_address", user.ipAddress)]
                .compactMap { key, value in value.map { KeyValue(key: key, value: $0) } }
            if !rows.isEmpty { sections.append(Section(title: "User", rows: rows)) }
        }
        if let request = event.request {
            let rows = [("method", request.method), ("url", request.url)].compactMap { key, value in
                value.map { KeyValue(key: key, value: $0) }
            }
            if !rows.isEmpty { sections.append(Section(title: "Request", rows: rows)) }
        }
        var details = [("platform", event.platform), ("logger", event.logger), ("transaction", event.transaction),
                       ("server_name", event.serverName)]
            .compactMap { key, value in value.map { KeyValue(key: key, value: $0) } }
        if let sdk = event.sdk, let name = sdk.name {
            details.append(KeyValue(key: "sdk", value: name + (sdk.version.map { " " + $0 } ?? "")))
        }
        if !details.isEmpty { sections.append(Section(title: "Details", rows: details)) }
        if !event.extra.isEmpty {
            sections.append(Section(title: "Extra", rows: event.extra.keys.sorted().map { key in
                KeyValue(key: key, value: Self.text(event.extra[key] ?? .null))
            }))
        }
        if !event.contexts.isEmpty {
            sections.append(Section(title: "Contexts", rows: event.contexts.keys.sorted().map { key in
                KeyValue(key: key, value: Self.text(event.contexts[key] ?? .null))
            }))
        }
        self.sections = sections
    }

    private static func exception(_ info: ExceptionInfo) -> ExceptionView {
        let frames = info.frames.reversed().map { frame in
            (inApp: frame.inApp == true, view: FrameView(
                function: frame.function ?? "?",
                where: [frame.filename ?? frame.absPath ?? frame.module ?? frame.package, frame.lineno.map(String.init)]
                    .compactMap { $0 }.joined(separator: ":"),
                context: frame.contextLine?.trimmingCharacters(in: .whitespaces)))
        }
        // When the SDK marks no frame as the application's, every frame is shown.
        let anyInApp = frames.contains { $0.inApp }
        let inApp = anyInApp ? frames.filter(\.inApp).map(\.view) : frames.map(\.view)
        let other = anyInApp ? frames.filter { !$0.inApp }.map(\.view) : []
        var mechanism = info.mechanism?.type
        if let handled = info.mechanism?.handled { mechanism = (mechanism ?? "") + (handled ? " (handled)" : " (unhandled)") }
        return ExceptionView(
            type: info.type ?? "Error", value: info.value, mechanism: mechanism, inApp: inApp, other: other,
            otherCount: other.isEmpty ? nil : other.count)
    }

    /// A JSON value as one line of text, long ones cut.
    static func text(_ value: JSONValue) -> String {
        let data = (try? JSONEncoder().encode(value)) ?? Data()
        let text = String(decoding: data, as: UTF8.self)
        return text.count > 2_000 ? String(text.prefix(2_000)) + "…" : text
    }
}
