import Foundation
import HeraldCore
import Testing

@Suite struct EventEncodingTests {
    @Test(arguments: [
        [Event.Tag("region", "eu"), Event.Tag("raised_by", "Bob")],
        [Event.Tag("browser", "Firefox"), Event.Tag("browser", "Chrome")],
        [],
    ])
    func aSentryPayloadReadsBackAsTheSameEvent(_ tags: [Event.Tag]) throws {
        var event = Event(
            eventID: "0123456789abcdef0123456789abcdef", timestamp: Date(timeIntervalSince1970: 1_795_000_000.25),
            level: .fatal, transaction: "checkout", serverName: "web-1", release: "2.3.0", environment: "production",
            message: "Checkout is down\n\nNobody can pay",
            exceptions: [ExceptionInfo(type: "TimeoutError", value: "upstream took 30 s")], tags: tags)
        event.fingerprint = ["chat-alert", "checkout is down"]
        let read = try JSONDecoder().decode(Event.self, from: event.sentryPayload())
        #expect(read.eventID == event.eventID)
        #expect(read.timestamp == event.timestamp)
        #expect(read.level == .fatal)
        #expect(read.message == event.message)
        #expect(read.environment == "production")
        #expect(read.release == "2.3.0")
        #expect(read.serverName == "web-1")
        #expect(read.transaction == "checkout")
        #expect(read.fingerprint == event.fingerprint)
        #expect(Set(read.tags) == Set(tags))
        #expect(read.tags.count == tags.count)
        #expect(read.exceptions.last?.type == "TimeoutError")
        #expect(read.exceptions.last?.value == "upstream took 30 s")
    }
}
