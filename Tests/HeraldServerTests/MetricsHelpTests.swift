import Foundation
import HeraldTestSupport
import Testing

/// Every metric `/metrics` shows has a `# HELP` line and is documented in the README.
@Suite struct MetricsHelpTests {
    static let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../README.md")

    @Test func everyMetricIsExplained() async throws {
        let server = try await RunningServer(rules: ["payments.yaml": OperatorTests.rules])
        // Enough traffic that the metrics made on first use exist: events, a refusal, a firing, a delivery
        // attempt (to a closed port), a reload.
        #expect(try await server.postEvent(#"{"message": "one"}"#).status == 200)
        #expect(try await server.postEvent("{").status == 400)
        #expect(try await server.admin("/-/reload", method: "POST").status == 200)
        try await eventually("a delivery attempt is counted") {
            try await server.send(HTTPTestRequest("GET", "/metrics")).text.contains("herald_deliveries_total")
        }
        let text = try await server.send(HTTPTestRequest("GET", "/metrics")).text
        let lines = text.split(separator: "\n").map(String.init)
        let readme = try String(contentsOf: Self.readme, encoding: .utf8)
        var names: [String] = []
        for (index, line) in lines.enumerated() where line.hasPrefix("# TYPE ") {
            let name = String(line.dropFirst(7).split(separator: " ")[0])
            names.append(name)
            #expect(index > 0 && lines[index - 1].hasPrefix("# HELP \(name) "), "\(name) has no HELP line")
            #expect(readme.contains("`\(name)"), "\(name) is not in the README")
        }
        #expect(names.count >= 12, "\(names)")
        try await server.stop()
    }
}
