/// The time buckets issue counters are kept in, and how a window splits into them.
///
/// Each event is counted in its minute, its hour and its day. A window is covered by whole days in the middle,
/// whole hours next to them and minutes at the edges, so a 30-day window reads at most about 200 rows where
/// minutes alone would read 43,200.
enum CounterBuckets {
    enum Resolution: Int, CaseIterable {
        case minute = 0, hour = 1, day = 2

        var seconds: Int {
            switch self {
            case .minute: 60
            case .hour: 3_600
            case .day: 86_400
            }
        }
        /// How many buckets of the next finer resolution make one of this.
        var finerPerBucket: Int {
            switch self {
            case .minute: 1
            case .hour: 60
            case .day: 24
            }
        }
    }

    /// A run of buckets of one resolution, both ends included.
    struct Span: Equatable {
        var resolution: Resolution
        var first: Int
        var last: Int
    }

    /// The bucket of each resolution that an instant falls in.
    static func buckets(at unixSeconds: Double) -> [(Resolution, Int)] {
        let seconds = Int(unixSeconds.rounded(.down))
        return Resolution.allCases.map { ($0, floorDiv(seconds, $0.seconds)) }
    }

    /// The spans covering the `windowMinutes` whole minutes that end with the minute holding `endSeconds`.
    ///
    /// The window counts in whole minutes, the current one included, so "the last hour" is this minute and
    /// the 59 before it.
    static func cover(windowMinutes: Int, endingAt endSeconds: Double) -> [Span] {
        let lastMinute = floorDiv(Int(endSeconds.rounded(.down)), 60)
        return cover(first: lastMinute - windowMinutes + 1, last: lastMinute, resolution: .minute)
    }

    /// Covers buckets `first...last` of `resolution`, using coarser buckets for the whole ones inside.
    private static func cover(first: Int, last: Int, resolution: Resolution) -> [Span] {
        guard first <= last else { return [] }
        guard let coarser = Resolution(rawValue: resolution.rawValue + 1) else {
            return [Span(resolution: resolution, first: first, last: last)]
        }
        let factor = coarser.finerPerBucket
        let firstWhole = ceilDiv(first, factor)
        let endWhole = floorDiv(last + 1, factor)  // exclusive
        guard firstWhole < endWhole else { return [Span(resolution: resolution, first: first, last: last)] }
        var spans: [Span] = []
        if first < firstWhole * factor {
            spans.append(Span(resolution: resolution, first: first, last: firstWhole * factor - 1))
        }
        spans += cover(first: firstWhole, last: endWhole - 1, resolution: coarser)
        if endWhole * factor <= last {
            spans.append(Span(resolution: resolution, first: endWhole * factor, last: last))
        }
        return spans
    }

    static func floorDiv(_ value: Int, _ divisor: Int) -> Int {
        let quotient = value / divisor
        return (value % divisor != 0 && value < 0) ? quotient - 1 : quotient
    }

    static func ceilDiv(_ value: Int, _ divisor: Int) -> Int {
        -floorDiv(-value, divisor)
    }
}
