import Foundation
import HeraldConfig
import HeraldRules

/// Removes secrets (and, when asked, personal data) from an event's JSON before anything else reads it: the
/// stored payload, the rules, chat messages and webhook bodies all see the scrubbed event, as with Sentry's
/// server-side data scrubbing.
///
/// Two tests, applied through the whole document (extra, contexts, request headers, cookies and data, stack
/// frames' local variables, breadcrumbs, tags): a key whose name contains a sensitive word has its value
/// replaced by `[Filtered]`, whatever it holds; a string that matches a secret's pattern (a card number that
/// passes Luhn's check, a bearer or basic credential, a private key, an AWS, Slack or GitHub token) is
/// replaced whole. Request headers sent as `[name, value]` pairs are read as keys and values.
public struct Scrubber: Sendable {
    public static let filtered = "[Filtered]"

    /// Sensitive key words of the defaults (matched inside key names, ignoring case), as Sentry's.
    public static let defaultFields = [
        "password", "passwd", "secret", "api_key", "apikey", "auth", "credentials", "mysql_pwd", "privatekey",
        "private_key", "token", "session", "cookie", "csrf", "xsrf", "x-api-key", "set-cookie",
    ]
    /// Value patterns of the defaults.
    static let defaultPatterns = [
        #"(?i)\b(bearer|basic|token)\s+[A-Za-z0-9._~+/=-]{8,}"#,
        #"-----BEGIN [A-Z ]*PRIVATE KEY-----"#,
        #"\b(AKIA|ASIA)[0-9A-Z]{16}\b"#,
        #"\bxox[abposr]-[A-Za-z0-9-]{10,}"#,
        #"\bgh[pousr]_[A-Za-z0-9]{30,}"#,
        #"(?i)://[^/\s:@]+:[^/\s@]+@"#,
    ]
    static let emailPattern = #"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"#
    static let addressPattern = #"\b(?:\d{1,3}\.){3}\d{1,3}\b|\b(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}\b"#

    let fields: [String]
    let safeFields: Set<String>
    let patterns: [Pattern]
    let cards: Bool
    public let isActive: Bool

    /// The scrubber the config asks for; a pattern that does not compile is reported by the config check.
    public init(_ config: Config.Scrubbing) throws {
        var fields = config.fields
        var sources = config.patterns
        if config.defaults {
            fields += Self.defaultFields
            sources += Self.defaultPatterns
        }
        if config.personalData {
            fields += ["email", "ip_address", "username"]
            sources += [Self.emailPattern, Self.addressPattern]
        }
        self.fields = fields
        safeFields = Set(config.safeFields)
        patterns = try sources.map { source in
            do {
                return try Pattern(source)
            } catch {
                throw ScrubbingError(pattern: source, reason: "\(error)")
            }
        }
        cards = config.defaults
        isActive = !fields.isEmpty || !patterns.isEmpty
    }

    public struct ScrubbingError: Error, CustomStringConvertible {
        public var pattern: String
        public var reason: String
        public var description: String { "scrubbing pattern '\(pattern.prefix(80))' does not compile: \(reason)" }
    }

    /// The event JSON with what must not be kept filtered; the bytes unchanged when nothing was.
    public func scrub(_ payload: Data) -> Data {
        // Callers check the JSON's shape (`JSONShape`) first: this parse never sees a document too deep or too
        // large.
        guard isActive, let object = try? JSONSerialization.jsonObject(with: payload) else { return payload }
        var changed = false
        let scrubbed = scrub(object, changed: &changed)
        guard changed, let data = try? JSONSerialization.data(withJSONObject: scrubbed) else { return payload }
        return data
    }

    func scrub(_ value: Any, changed: inout Bool) -> Any {
        switch value {
        case let object as [String: Any]:
            var result: [String: Any] = [:]
            for (key, child) in object {
                if Self.structuralKeys.contains(key.lowercased()) {
                    result[key] = child
                } else if isSensitive(key), !(child is NSNull) {
                    result[key] = Self.filtered
                    changed = true
                } else {
                    result[key] = scrub(child, changed: &changed)
                }
            }
            return result
        case let array as [Any]:
            // Headers as [name, value] pairs: the name decides for the value.
            if array.count == 2, let name = array[0] as? String, array[1] is String, isSensitive(name) {
                changed = true
                return [name, Self.filtered]
            }
            return array.map { scrub($0, changed: &changed) }
        case let text as String:
            if isSecret(text) {
                changed = true
                return Self.filtered
            }
            return text
        default:
            return value
        }
    }

    /// Keys whose values are ids and times, never secrets: left alone, so an event keeps its identity.
    static let structuralKeys: Set<String> = ["event_id", "trace_id", "span_id", "parent_span_id", "timestamp", "start_timestamp"]

    func isSensitive(_ key: String) -> Bool {
        let lowered = key.lowercased()
        guard !safeFields.contains(lowered), !Self.structuralKeys.contains(lowered) else { return false }
        return fields.contains { lowered.contains($0) }
    }

    func isSecret(_ text: String) -> Bool {
        guard !text.isEmpty else { return false }
        if cards, Self.containsCardNumber(text) { return true }
        return patterns.contains { $0.matches(text) }
    }

    /// Whether the text holds a run of 13 to 19 digits (single spaces or dashes between them allowed) that
    /// passes Luhn's check: a payment card number. A longer run of digits (an id, a timestamp) is not one.
    /// Linear in the text.
    static func containsCardNumber(_ text: String) -> Bool {
        var digits: [Int] = []
        var overlong = false
        var lastWasSeparator = false
        func endRun() -> Bool {
            defer {
                digits.removeAll(keepingCapacity: true)
                overlong = false
            }
            return !overlong && (13...19).contains(digits.count) && luhn(digits[...])
        }
        for scalar in text.unicodeScalars {
            if ("0"..."9").contains(scalar) {
                let digit = Int(scalar.value) - 48
                lastWasSeparator = false
                if digits.count == 19 { overlong = true } else { digits.append(digit) }
            } else if (scalar == " " || scalar == "-"), !digits.isEmpty, !lastWasSeparator {
                lastWasSeparator = true
            } else {
                lastWasSeparator = false
                if endRun() { return true }
            }
        }
        return endRun()
    }

    static func luhn(_ digits: ArraySlice<Int>) -> Bool {
        var sum = 0
        for (offset, digit) in digits.reversed().enumerated() {
            let value = offset % 2 == 1 ? digit * 2 : digit
            sum += value > 9 ? value - 9 : value
        }
        return sum % 10 == 0 && digits.contains { $0 != 0 }
    }
}
