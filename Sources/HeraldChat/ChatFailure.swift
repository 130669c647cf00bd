import Foundation
import HeraldCore
import HeraldHTTP

/// Why a request to a chat platform or webhook did not succeed, sorted by what delivery should do next.
public enum ChatFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// HTTP 429: wait exactly this many seconds before calling this method of this target again.
    case rateLimited(retryAfter: Double)
    /// A 5xx, a timeout, a dropped connection or a platform error that says "try later": retry with backoff.
    /// The request may have gone through.
    case transient(String)
    /// Refused for good (`channel_not_found`, `invalid_auth`, a 4xx…): retrying cannot help.
    case permanent(code: String, detail: String)

    public var description: String {
        switch self {
        case .rateLimited(let seconds): "rate limited: retry after \(seconds.formattedSeconds)"
        case .transient(let reason): reason
        case .permanent(let code, let detail): detail.isEmpty ? code : "\(code): \(detail)"
        }
    }

    /// The codes Herald acts on, named once: platforms' own (`channel_not_found`, `thread_not_found`…) and
    /// the ones Herald gives its own refusals.
    public enum Code {
        /// The platforms' codes: a channel that does not exist or that the bot cannot see (Slack's code;
        /// Mattermost's channel lookup maps its 404 to it), and Slack's answers to a reply whose first message
        /// is gone.
        public static let channelNotFound = "channel_not_found", threadNotFound = "thread_not_found",
            messageNotFound = "message_not_found", unknownError = "unknown_error"
        /// Herald's own refusals: a target the config does not name; something the platform cannot do (a
        /// webhook has no threads); a chat delivery without a channel; a channel template whose tag the event
        /// lacks, with no fallback channel; an update or note whose message is no longer recorded; a
        /// Mattermost connector without a team to look channels up in, or without an incoming webhook; a
        /// request the HTTP client would not send.
        public static let unknownTarget = "unknown_target", unsupported = "unsupported", noChannel = "no_channel",
            channelUnrenderable = "channel_unrenderable", messageUnknown = "message_unknown", noTeam = "no_team",
            noWebhook = "no_webhook", invalidRequest = "invalid_request"

        /// An HTTP status the platform answered with and named no error of its own: `http_404`.
        public static func http(_ status: Int) -> String { "http_\(status)" }
    }

    /// The platform's error code for permanent failures.
    public var code: String? {
        if case .permanent(let code, _) = self { return code }
        return nil
    }

    /// The response `send` gets, with a failure to get one turned into a `ChatFailure`.
    static func answer(_ send: () async throws -> HTTPClient.Response) async throws(ChatFailure) -> HTTPClient.Response {
        do {
            return try await send()
        } catch {
            throw transport(error)
        }
    }

    /// A transport failure: the request got no answer.
    static func transport(_ error: any Error) -> ChatFailure {
        switch error {
        case let error as HTTPClientError:
            if case .invalidRequest(let reason) = error { return .permanent(code: Code.invalidRequest, detail: reason) }
            return .transient(error.description)
        default:
            return .transient(String(describing: error))
        }
    }

    /// What an HTTP status says before the body is read: 429 and 5xx; nil for anything else.
    static func status(_ response: HTTPClient.Response) -> ChatFailure? {
        if response.status == 429 {
            return .rateLimited(retryAfter: retryAfter(response) ?? 1)
        }
        if response.status >= 500 || response.status == 408 {
            return .transient("HTTP \(response.status)\(snippet(response).map { ": " + $0 } ?? "")")
        }
        return nil
    }

    /// `Retry-After` in seconds (an HTTP date is turned into seconds from now); Mattermost's
    /// `X-Ratelimit-Reset` (seconds) when there is no `Retry-After`.
    /// Held within a year: the header comes from outside, and `1e300` or `inf` must neither trap the arithmetic
    /// that schedules the retry nor the text that reports it.
    static func retryAfter(_ response: HTTPClient.Response) -> Double? {
        func held(_ seconds: Double) -> Double? { seconds >= 0 ? min(seconds, longestWait) : nil }
        if let value = response.headers["retry-after"]?.trimmingCharacters(in: .whitespaces) {
            if let seconds = Double(value) { return held(seconds) }
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
            if let date = formatter.date(from: value) { return held(max(0, date.timeIntervalSinceNow)) }
        }
        if let reset = response.headers["x-ratelimit-reset"].flatMap(Double.init) { return held(reset) }
        return nil
    }

    /// The longest wait a platform can ask for: a year.
    static let longestWait: Double = 365 * 86_400

    /// The start of a response body, for error messages.
    static func snippet(_ response: HTTPClient.Response) -> String? {
        let text = response.text.trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text.fitted(to: 300)
    }
}

extension Double {
    /// "1 s", "1.5 s".
    var formattedSeconds: String {
        self == rounded() && abs(self) < 1e15 ? "\(Int(self)) s" : "\(self) s"
    }
}

/// The JSON object a platform answered with, or nil when the body is not one.
func jsonObject(_ body: [UInt8]) -> [String: Any]? {
    guard (try? JSONShape.check(body)) != nil else { return nil }
    return (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any]
}
