import Foundation
import HeraldCore

/// A channel name that may take parts from the event: `#team-{{ tags.team }}`, `#alerts-{{ environment }}`.
public struct ChannelTemplate: Hashable, Sendable, CustomStringConvertible {
    public enum Part: Hashable, Sendable {
        case literal(String)
        case tag(String)
        case environment
        case project
        case level
    }

    /// The variables a template may use.
    public static let variables = ["tags.<key>", "environment", "project", "level"]

    public let source: String
    public let parts: [Part]
    /// True when the template takes nothing from the event.
    public let isLiteral: Bool

    public enum ParseError: Error, Equatable {
        case unterminated
        case unknownVariable(String)
    }

    public init(parsing source: String) throws(ParseError) {
        var parts: [Part] = []
        var rest = Substring(source)
        while let open = rest.range(of: "{{") {
            if open.lowerBound > rest.startIndex { parts.append(.literal(String(rest[..<open.lowerBound]))) }
            guard let close = rest[open.upperBound...].range(of: "}}") else { throw .unterminated }
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            switch name {
            case "environment": parts.append(.environment)
            case "project": parts.append(.project)
            case "level": parts.append(.level)
            case _ where name.hasPrefix("tags.") && name.count > 5: parts.append(.tag(String(name.dropFirst(5))))
            default: throw .unknownVariable(name)
            }
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { parts.append(.literal(String(rest))) }
        self.source = source
        self.parts = parts
        self.isLiteral = parts.allSatisfy { if case .literal = $0 { true } else { false } }
    }

    /// The channel for one event, or the name of the first variable the event lacks. Substituted values are
    /// made channel-safe: lowercased, with spaces turned into dashes, as Slack and Mattermost name channels.
    public func render(event: Event, project: String) -> Result<String, MissingVariable> {
        if isLiteral { return .success(source) }
        var name = ""
        for part in parts {
            let value: String?
            switch part {
            case .literal(let text):
                name += text
                continue
            case .tag(let key): value = event.tagValues(key).first
            case .environment: value = event.environment
            case .project: value = project
            case .level: value = event.level.name
            }
            guard let value, !value.isEmpty else { return .failure(MissingVariable(part: part)) }
            name += value.lowercased().replacingOccurrences(of: " ", with: "-")
        }
        return .success(name)
    }

    public struct MissingVariable: Error, Hashable, Sendable, CustomStringConvertible {
        public let part: Part
        public var description: String {
            switch part {
            case .tag(let key): "the event has no tag '\(key)'"
            case .environment: "the event has no environment"
            default: "the event has no value for \(part)"
            }
        }
    }

    public var description: String { source }
}
