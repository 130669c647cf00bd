import Foundation
import Mustache
import Testing

@testable import HeraldConsole
import HeraldTestSupport

/// The view models that name their fields for the templates (`MustacheParent`, instead of swift-mustache's
/// reflection) must name every one: a field left out of `child(named:)` would render as nothing.
@Suite struct ModelLookupTests {
    @Test func everyFieldOfTheIssuePageIsReachable() async throws {
        let server = try await RunningServer(rules: ["payments.yaml": """
            project: payments
            rules:
              - name: Everything
                when: [every_event]
                then:
                  - webhook: {name: pager}
            """])
        let event = #"{"message": "card declined", "environment": "production", "release": "1.0", "tags": {"region": "eu"}, "#
            + #""user": {"id": "7"}, "request": {"url": "https://x", "method": "GET"}, "extra": {"n": 1}, "#
            + #""exception": [{"type": "E", "value": "v", "frames": [{"function": "f", "filename": "a.py", "lineno": 1, "in_app": true}, "#
            + #"{"function": "g", "filename": "lib.py", "lineno": 2, "in_app": false}]}]}"#
        #expect(try await server.postEvent(event).status == 200)
        let pages = ConsolePages(store: server.server.store, config: server.server.config, rules: {
            LoadedRules(engine: server.server.rules.engine, loadedAt: Date(), failure: nil)
        })
        let viewer = Viewer(user: try #require(server.server.config.user(email: "alice@example.com")), csrf: "c")
        _ = try await server.server.store.act(
            on: 1, nil, action: "ack", summary: "Acknowledged by Alice via web", actor: .init(email: "alice@example.com", name: "Alice", surface: "web"))
        let model = try #require(try await pages.issueModel(
            "1", viewer: viewer, options: IssuePageOptions(whyNot: "Everything", flash: "done")))
        var checked = 0
        Self.check(model, path: "page", checked: &checked)
        #expect(checked > 15)
        try await server.stop()
    }

    /// Walks a model: wherever a value names its children, each stored field must be reachable by its name.
    static func check(_ value: Any, path: String, checked: inout Int) {
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .optional {
            if let inner = mirror.children.first?.value { check(inner, path: path, checked: &checked) }
            return
        }
        if mirror.displayStyle == .collection {
            for (index, element) in mirror.children.enumerated() { check(element.value, path: "\(path)[\(index)]", checked: &checked) }
            return
        }
        guard mirror.displayStyle == .struct else { return }
        let parent = value as? MustacheParent
        if parent != nil { checked += 1 }
        for child in mirror.children {
            guard let label = child.label else { continue }
            if let parent {
                let isNil = Mirror(reflecting: child.value).displayStyle == .optional && Mirror(reflecting: child.value).children.isEmpty
                #expect(isNil || parent.child(named: label) != nil, "\(path).\(label) is not named by child(named:)")
            }
            check(child.value, path: "\(path).\(label)", checked: &checked)
        }
    }
}
