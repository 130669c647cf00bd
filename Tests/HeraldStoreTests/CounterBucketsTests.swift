import HeraldCore
import Testing

@testable import HeraldStore

@Suite struct CounterBucketsTests {
    /// Every window, at every alignment, is covered exactly once: each minute in it by one span, nothing else.
    @Test(arguments: [1, 5, 15, 60, 61, 1_440, 1_500, 10_080, 43_200])
    func coversEachMinuteOfTheWindowExactlyOnce(windowMinutes: Int) {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<40 {
            let end = Double(Int.random(in: 28_000_000...30_000_000, using: &generator) * 60 + Int.random(in: 0...59))
            let spans = CounterBuckets.cover(windowMinutes: windowMinutes, endingAt: end)
            var covered: [Int] = []
            for span in spans {
                let size = span.resolution.seconds / 60
                for bucket in span.first...span.last {
                    covered += Array(bucket * size..<(bucket + 1) * size)
                }
            }
            let lastMinute = Int(end) / 60
            #expect(covered.sorted() == Array(lastMinute - windowMinutes + 1...lastMinute))
            #expect(spans.count <= 5)
        }
    }
}
