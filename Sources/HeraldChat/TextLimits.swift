/// Fitting text into chat platforms' field limits: long values are cut with an ellipsis, never refused.
extension String {
    /// At most `limit` UTF-16 code units (the strictest way a platform may count), whole characters only,
    /// ending in "…" when cut.
    public func fitted(to limit: Int) -> String {
        guard utf16.count > limit else { return self }
        var kept = ""
        var used = 0
        for character in self {
            let size = character.utf16.count
            if used + size > limit - 1 { break }
            kept.append(character)
            used += size
        }
        return kept + "…"
    }

    /// Slack mrkdwn with `&`, `<` and `>` escaped, as Slack asks for any text that is not markup.
    public var slackEscaped: String {
        guard contains(where: { $0 == "&" || $0 == "<" || $0 == ">" }) else { return self }
        var text = ""
        text.reserveCapacity(count + 8)
        for character in self {
            switch character {
            case "&": text += "&amp;"
            case "<": text += "&lt;"
            case ">": text += "&gt;"
            default: text.append(character)
            }
        }
        return text
    }

    /// Escaped for Slack, then fitted, never cutting through an escape such as `&amp;`.
    public func slackFitted(to limit: Int) -> String {
        let escaped = slackEscaped
        guard escaped.utf16.count > limit else { return escaped }
        var cut = escaped.fitted(to: limit)
        cut.removeLast()
        if let ampersand = cut.lastIndex(of: "&"), !cut[ampersand...].contains(";") {
            cut.removeSubrange(ampersand...)
        }
        return cut + "…"
    }
}
