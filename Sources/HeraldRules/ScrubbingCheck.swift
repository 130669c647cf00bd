import HeraldConfig

extension Config.Scrubbing {
    /// Each of the config's own scrubbing patterns that PCRE2 does not compile, at its place in the config:
    /// reported by `herald rules check` and refused at start, as a rule's pattern is.
    public var patternProblems: [Diagnostic] {
        patterns.compactMap { source in
            do {
                _ = try Pattern(source)
                return nil
            } catch {
                return Diagnostic(
                    "scrubbing pattern '\(source.prefix(80))' does not compile: \(error)",
                    at: patternLocations[source] ?? SourceLocation(file: "herald.yaml", line: 1, column: 1))
            }
        }
    }
}
