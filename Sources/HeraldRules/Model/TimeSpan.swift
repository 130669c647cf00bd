/// A length of time written as rule files write it: `90s`, `30m`, `1h30m`, `2d`, `1w`.
public struct TimeSpan: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var seconds: Int

    public init(seconds: Int) {
        self.seconds = seconds
    }

    private static let units: [(suffix: Character, seconds: Int)] = [
        ("w", 604_800), ("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1),
    ]

    /// Parses one or more `<number><unit>` parts, largest unit first; nil for anything else.
    public init?(parsing text: String) {
        var total = 0
        var digits = ""
        var lastUnitIndex = -1
        for character in text {
            if character.isASCII, character.isNumber {
                digits.append(character)
                continue
            }
            guard let unitIndex = Self.units.firstIndex(where: { $0.suffix == character }),
                unitIndex > lastUnitIndex, let amount = Int(digits), amount <= 1_000_000
            else { return nil }
            total += amount * Self.units[unitIndex].seconds
            digits = ""
            lastUnitIndex = unitIndex
        }
        guard digits.isEmpty, lastUnitIndex >= 0, total > 0 else { return nil }
        seconds = total
    }

    /// The shortest spelling, largest units first (`5400s` prints as `1h30m`).
    public var description: String {
        var rest = seconds
        var text = ""
        for unit in Self.units where rest >= unit.seconds {
            text += "\(rest / unit.seconds)\(unit.suffix)"
            rest %= unit.seconds
        }
        return text.isEmpty ? "0s" : text
    }

    public static func < (lhs: TimeSpan, rhs: TimeSpan) -> Bool { lhs.seconds < rhs.seconds }
}

/// The windows that count-based triggers look back over, as Sentry offers them.
public enum Interval: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case oneMinute = "1m"
    case fiveMinutes = "5m"
    case fifteenMinutes = "15m"
    case oneHour = "1h"
    case oneDay = "1d"
    case oneWeek = "1w"
    case thirtyDays = "30d"

    public static let names: [String] = allCases.map(\.rawValue)

    public var span: TimeSpan { TimeSpan(parsing: rawValue)! }
    public var description: String { rawValue }
}
