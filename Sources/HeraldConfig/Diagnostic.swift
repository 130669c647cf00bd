/// A place in a source file, 1-based, as editors count lines and columns.
public struct SourceLocation: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }

    public static func < (lhs: SourceLocation, rhs: SourceLocation) -> Bool {
        (lhs.file, lhs.line, lhs.column) < (rhs.file, rhs.line, rhs.column)
    }
}

/// One problem in a config or rule file, with where it is. Prints as `file:line:column: error: message`,
/// the form editors and CI annotators recognise.
public struct Diagnostic: Error, Sendable, Hashable, CustomStringConvertible {
    public var location: SourceLocation
    public var message: String

    public init(_ message: String, at location: SourceLocation) {
        self.location = location
        self.message = message
    }

    public var description: String { "\(location): error: \(message)" }
}

/// Every problem found in one load, in file and position order. Loading never stops at the first problem:
/// admins fix a whole file in one round.
public struct Diagnostics: Error, Sendable, CustomStringConvertible {
    public var all: [Diagnostic]

    public init(_ all: [Diagnostic]) {
        self.all = all.sorted { $0.location < $1.location }
    }

    public var description: String { all.map(\.description).joined(separator: "\n") }
}
