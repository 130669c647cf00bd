import HeraldCore
import Testing

@Suite struct GroupingTests {
    @Test(arguments: [
        ("Order 12345 not found", "Order <int> not found"),
        ("id=5f0c6a2e-8b1d-4c7e-9a11-2d3b4c5d6e7f failed", "id=<uuid> failed"),
        ("segfault at 0x7ffd3a2b", "segfault at <hex>"),
        ("commit deadbeef42 broke it", "commit <hex> broke it"),
        ("user42 logged in", "user42 logged in"),
        ("deadline exceeded", "deadline exceeded"),
        ("took 1.5 s\nsecond line 99", "took <int>.<int> s"),
        ("café 12 €", "café <int> €"),
    ])
    func normalisesTheVariableParts(message: String, normalised: String) {
        #expect(Grouping.normalisedMessage(message) == normalised)
    }

    @Test func lineNumbersAndValuesDoNotSplitAnIssue() {
        func event(line: Int, value: String, function: String = "charge", inApp: Bool = true) -> Event {
            Event(exceptions: [ExceptionInfo(type: "KeyError", value: value, frames: [
                .init(module: "requests.api", function: "post", lineno: 10, inApp: false),
                .init(module: "shop.pay", function: function, lineno: line, inApp: inApp),
            ])])
        }
        let base = Grouping(event: event(line: 1, value: "a"))
        #expect(Grouping(event: event(line: 99, value: "b")) == base)
        #expect(Grouping(event: event(line: 1, value: "a", function: "refund")) != base)
        #expect(base.components == ["type:KeyError", "frame:shop.pay charge"])
        // No frame in-app: all frames count.
        #expect(Grouping(event: event(line: 1, value: "a", inApp: false)).components
            == ["type:KeyError", "frame:requests.api post", "frame:shop.pay charge"])
    }

    @Test func anExplicitFingerprintReplacesOrExtendsTheDefault() {
        var event = Event(message: "quota 5 exceeded")
        let byDefault = Grouping(event: event)
        event.fingerprint = ["{{ default }}", "tenant-a"]
        #expect(Grouping(event: event).components == ["message:quota <int> exceeded", "fingerprint:tenant-a"])
        event.fingerprint = ["{{default}}"]
        #expect(Grouping(event: event) == byDefault)
        event.fingerprint = ["billing"]
        #expect(Grouping(event: event).components == ["fingerprint:billing"])
        #expect(Grouping(event: event).hash.count == 32)
    }
}
