import Foundation
import Yams

/// Reads the YAML of one file into typed values while collecting every problem with its exact location.
///
/// Each accessor reports what is wrong with the node it was given and returns nil, so a loader can carry on
/// and report the next problem too. Not shared across threads: one reader serves one file's load.
public final class YAMLReader {
    public let file: String
    public private(set) var diagnostics: [Diagnostic] = []

    public init(file: String) {
        self.file = file
    }

    /// Parses a document; a syntax error becomes a diagnostic at the place libyaml stopped.
    public func parse(_ text: String) -> Node? {
        do {
            return try Yams.compose(yaml: text)
        } catch let error as YamlError {
            switch error {
            case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
                .composer(_, let problem, let mark, _):
                report("YAML syntax: \(problem)", at: SourceLocation(file: file, line: mark.line, column: mark.column))
            case .duplicatedKeysInMapping(let keys, let context):
                let names = keys.map { "'\($0)'" }.joined(separator: ", ")
                report("duplicate key \(names) (each key may appear once in a mapping)",
                       at: SourceLocation(file: file, line: context.mark.line, column: context.mark.column))
            case .reader(let problem, _, _, _):
                report("YAML syntax: \(problem)", at: SourceLocation(file: file, line: 1, column: 1))
            default:
                report("YAML syntax: \(error)", at: SourceLocation(file: file, line: 1, column: 1))
            }
            return nil
        } catch {
            report("YAML syntax: \(error)", at: SourceLocation(file: file, line: 1, column: 1))
            return nil
        }
    }

    public func location(of node: Node) -> SourceLocation {
        let mark = node.mark
        return SourceLocation(file: file, line: mark?.line ?? 1, column: mark?.column ?? 1)
    }

    public func report(_ message: String, at location: SourceLocation) {
        diagnostics.append(Diagnostic(message, at: location))
    }

    public func report(_ message: String, at node: Node) {
        report(message, at: location(of: node))
    }

    // MARK: Mappings

    /// A mapping's entries by key, with the key nodes kept for locations.
    public struct Fields {
        public let node: Node
        public let entries: [(key: String, keyNode: Node, value: Node)]

        public subscript(key: String) -> Node? { entries.first { $0.key == key }?.value }
        public func keyNode(_ key: String) -> Node? { entries.first { $0.key == key }?.keyNode }
        public var keys: [String] { entries.map(\.key) }
    }

    /// Reads a mapping, reporting duplicate keys, keys outside `allowed` (with a suggestion) and missing
    /// `required` keys. `what` names the mapping in messages ("rule", "slack action").
    public func mapping(_ node: Node, _ what: String, allowed: [String], required: [String] = []) -> Fields? {
        guard case .mapping(let mapping) = node else {
            report("\(what) must be a mapping with keys \(allowed.joined(separator: ", "))", at: node)
            return nil
        }
        var entries: [(key: String, keyNode: Node, value: Node)] = []
        var suggested = Set<String>()
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode else {
                report("\(what) keys must be plain words", at: keyNode)
                continue
            }
            let key = scalar.string
            if entries.contains(where: { $0.key == key }) {
                report("duplicate key '\(key)' in \(what)", at: keyNode)
                continue
            }
            if !allowed.contains(key) {
                report("unknown key '\(key)' in \(what); \(allowedValuesHint(for: key, among: allowed))", at: keyNode)
                if let match = closestMatch(to: key, among: allowed) { suggested.insert(match) }
                continue
            }
            entries.append((key, keyNode, value))
        }
        // A missing key that a misspelt one was already suggested as needs no second report.
        for key in required where !entries.contains(where: { $0.key == key }) && !suggested.contains(key) {
            report("\(what) is missing the required key '\(key)'", at: node)
        }
        return Fields(node: node, entries: entries)
    }

    // MARK: Scalars and lists

    /// Any scalar as text (`500` reads as "500"); null, lists and mappings are errors.
    public func string(_ node: Node, _ field: String) -> String? {
        guard case .scalar(let scalar) = node, !isNull(scalar) else {
            report("'\(field)' must be text, not \(kindName(node))", at: node)
            return nil
        }
        return scalar.string
    }

    /// Text that must not be empty.
    public func nonEmptyString(_ node: Node, _ field: String) -> String? {
        guard let text = string(node, field) else { return nil }
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty else {
            report("'\(field)' must not be empty", at: node)
            return nil
        }
        return text
    }

    public func int(_ node: Node, _ field: String, range: ClosedRange<Int>? = nil) -> Int? {
        guard case .scalar(let scalar) = node, let value = Int(scalar.string) else {
            report("'\(field)' must be a whole number, not \(describe(node))", at: node)
            return nil
        }
        if let range, !range.contains(value) {
            report("'\(field)' must be between \(range.lowerBound) and \(range.upperBound), not \(value)", at: node)
            return nil
        }
        return value
    }

    public func number(_ node: Node, _ field: String) -> Double? {
        guard case .scalar(let scalar) = node, let value = Double(scalar.string), value.isFinite else {
            report("'\(field)' must be a number, not \(describe(node))", at: node)
            return nil
        }
        return value
    }

    /// A number within `range`.
    public func number(_ node: Node, _ field: String, range: ClosedRange<Double>) -> Double? {
        guard let value = number(node, field) else { return nil }
        guard range.contains(value) else {
            // The value as written: converting 1e300 to an integer to print it would trap.
            func plain(_ bound: Double) -> String { bound == bound.rounded() && abs(bound) < 1e15 ? String(Int(bound)) : String(bound) }
            let written = if case .scalar(let scalar) = node { String(scalar.string.prefix(40)) } else { plain(value) }
            report("'\(field)' must be between \(plain(range.lowerBound)) and \(plain(range.upperBound)), not \(written)",
                   at: node)
            return nil
        }
        return value
    }

    public func bool(_ node: Node, _ field: String) -> Bool? {
        guard case .scalar(let scalar) = node else {
            report("'\(field)' must be true or false, not \(kindName(node))", at: node)
            return nil
        }
        switch scalar.string.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            report("'\(field)' must be true or false, not '\(scalar.string)'", at: node)
            return nil
        }
    }

    public func sequence(_ node: Node, _ field: String) -> [Node]? {
        guard case .sequence(let sequence) = node else {
            report("'\(field)' must be a list, not \(kindName(node))", at: node)
            return nil
        }
        return Array(sequence)
    }

    /// A list of text values; each bad element is reported on its own.
    public func stringList(_ node: Node, _ field: String) -> [(String, Node)]? {
        guard let items = sequence(node, field) else { return nil }
        return items.compactMap { item in string(item, field).map { ($0, item) } }
    }

    public func isNull(_ scalar: Node.Scalar) -> Bool {
        scalar.style == .plain && ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    private func kindName(_ node: Node) -> String {
        switch node {
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .scalar(let scalar): isNull(scalar) ? "empty" : "'\(scalar.string)'"
        case .alias: "an alias"
        }
    }

    private func describe(_ node: Node) -> String { kindName(node) }
}
