import Foundation
@testable import HeraldDelivery
import Testing

/// Repeated identical retry notices are written once a minute, with how many were held back.
@Suite struct NoticeLimiterTests {
    @Test func repeatsAreCountedNotWritten() {
        var limiter = NoticeLimiter(interval: .seconds(60))
        let start = ContinuousClock.now
        #expect(limiter.admit("webhook pager timeout", now: start) == (true, 0))
        for second in 1...59 {
            #expect(limiter.admit("webhook pager timeout", now: start + .seconds(second)) == (false, 0))
        }
        // Another target or error is its own kind.
        #expect(limiter.admit("slack acme ratelimited", now: start + .seconds(30)) == (true, 0))
        #expect(limiter.admit("webhook pager timeout", now: start + .seconds(60)) == (true, 59))
        #expect(limiter.admit("webhook pager timeout", now: start + .seconds(200)) == (true, 0))
    }
}
