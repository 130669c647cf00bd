/// Durations as people write and read them, the same on every surface: `90s`, `30m`, `2h`, `7d`, `1h30m`
/// or a number of seconds in; "1 h 30 min" out.
public enum SpokenDuration {
    /// Whole seconds from `30m`, `2h`, `1d12h`, `45s` or `5400`; nil for anything else, zero, or more than
    /// `limit` seconds. Never traps, whatever the digits.
    public static func seconds(_ text: String, limit: Int = Int.max) -> Int? {
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400, "w": 604_800]
        if let plain = Int(text) { return plain > 0 && plain <= limit ? plain : nil }
        var total = 0
        var digits = ""
        var lastUnit = Int.max
        for character in text {
            if character.isASCII, character.isNumber {
                digits.append(character)
            } else if let unit = units[character], let count = Int(digits) {
                // Units from largest to smallest, each once: `1h30m`, not `30m1h` or `1h1h`.
                guard unit < lastUnit else { return nil }
                lastUnit = unit
                let (part, overflow) = count.multipliedReportingOverflow(by: unit)
                guard !overflow else { return nil }
                let (sum, overflowSum) = total.addingReportingOverflow(part)
                guard !overflowSum else { return nil }
                total = sum
                digits = ""
            } else {
                return nil
            }
        }
        guard digits.isEmpty, total > 0, total <= limit else { return nil }
        return total
    }

    /// "45 s", "30 min", "1 h 30 min", "2 d 4 h": the two largest non-zero units.
    public static func text(_ seconds: Int) -> String {
        guard seconds > 0 else { return "0 s" }
        let parts = [(seconds / 86_400, "d"), (seconds % 86_400 / 3_600, "h"), (seconds % 3_600 / 60, "min"), (seconds % 60, "s")]
        let shown = parts.drop { $0.0 == 0 }.prefix(2).filter { $0.0 > 0 }
        return shown.map { "\($0.0) \($0.1)" }.joined(separator: " ")
    }
}
