import HeraldCore
import Testing

/// Durations are read and written the same way on every surface.
@Suite struct SpokenDurationTests {
    @Test(arguments: [
        ("90s", 90), ("30m", 1_800), ("2h", 7_200), ("7d", 604_800), ("1h30m", 5_400), ("1d12h", 129_600), ("5400", 5_400),
        ("1w", 604_800),
    ])
    func reads(text: String, seconds: Int) {
        #expect(SpokenDuration.seconds(text) == seconds)
    }

    @Test(arguments: ["", "0", "0m", "-5", "h", "2x", "30m1h", "1h1h", "1.5h", "99999999999999999999d", "9223372036854775807d", "2h ", " 2h"])
    func refuses(text: String) {
        #expect(SpokenDuration.seconds(text) == nil)
    }

    @Test(arguments: [(45, "45 s"), (1_800, "30 min"), (5_400, "1 h 30 min"), (7_200, "2 h"), (187_200, "2 d 4 h"), (90_061, "1 d 1 h")])
    func writes(seconds: Int, text: String) {
        #expect(SpokenDuration.text(seconds) == text)
    }

    /// The admin API, chat buttons and the command line read the same forms; a button's `ignore:1800s` keeps
    /// working, and what an ignore says is the spoken form.
    @Test func ignoreActionsTakeEveryForm() {
        #expect(IssueAction("ignore:2h") == .ignore(.duration(seconds: 7_200)))
        #expect(IssueAction("ignore:1800s") == .ignore(.duration(seconds: 1_800)))
        #expect(IssueAction("ignore:1h30m")?.verb() == "Ignored for 1 h 30 min")
        #expect(IssueAction("ignore:30m")?.verb() == "Ignored for 30 minutes")
        #expect(IssueAction("ignore:10000d") == nil)
        #expect(IssueAction("ignore:10events") == .ignore(.moreEvents(10)))
    }
}
