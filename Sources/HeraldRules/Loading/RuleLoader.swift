import Foundation
import HeraldConfig
import Yams

/// Reads every `*.yaml` / `*.yml` file under a rules directory, validates it against the config, and reports
/// every problem at once, each with its file, line and column.
public struct RuleLoader: Sendable {
    public let config: Config

    public init(config: Config) {
        self.config = config
    }

    /// Loads every rule file below `directory`, in path order.
    public func load(directory: String) throws(Diagnostics) -> RuleSet {
        let paths: [String]
        do {
            paths = try Self.ruleFiles(in: directory)
        } catch {
            throw Diagnostics([Diagnostic("cannot read rules directory: \(error.localizedDescription)",
                                          at: SourceLocation(file: directory, line: 1, column: 1))])
        }
        var files: [(path: String, text: String)] = []
        var problems: [Diagnostic] = []
        for path in paths {
            do {
                files.append((path, try String(contentsOfFile: path, encoding: .utf8)))
            } catch {
                problems.append(Diagnostic("cannot read rule file: \(error.localizedDescription)",
                                           at: SourceLocation(file: path, line: 1, column: 1)))
            }
        }
        guard problems.isEmpty else { throw Diagnostics(problems) }
        return try load(files: files)
    }

    /// Validates rule files given as text; `path` names each in diagnostics.
    public func load(files: [(path: String, text: String)]) throws(Diagnostics) -> RuleSet {
        var rules: [Rule] = []
        var problems: [Diagnostic] = []
        var firstByName: [String: SourceLocation] = [:]
        for file in files {
            let reader = YAMLReader(file: file.path)
            let fileRules = reader.parse(file.text).map { RuleFileReading(reader: reader, config: config).read($0) } ?? []
            for loaded in fileRules {
                let key = loaded.project + "\u{0}" + loaded.name.lowercased()
                if let first = firstByName[key] {
                    reader.report(
                        "rule name '\(loaded.name)' is already used in project '\(loaded.project)' (at \(first))",
                        at: loaded.nameLocation)
                    continue
                }
                firstByName[key] = loaded.rule?.location ?? loaded.nameLocation
                if let rule = loaded.rule { rules.append(rule) }
            }
            problems += reader.diagnostics
        }
        guard problems.isEmpty else { throw Diagnostics(problems) }
        return RuleSet(rules: rules, files: files.map(\.path), version: Self.version(of: files))
    }

    /// The rule files below a directory, recursively, sorted so that loads are repeatable.
    public static func ruleFiles(in directory: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: directory])
        }
        let base = URL(fileURLWithPath: directory)
        guard let enumerator = FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil) else {
            return []
        }
        var paths: [String] = []
        for case let url as URL in enumerator where ["yaml", "yml"].contains(url.pathExtension) {
            if url.lastPathComponent.hasPrefix(".") { continue }
            paths.append(directory.hasSuffix("/") ? directory + relative(url, to: base) : directory + "/" + relative(url, to: base))
        }
        return paths.sorted()
    }

    private static func relative(_ url: URL, to base: URL) -> String {
        let full = url.standardizedFileURL.path, root = base.standardizedFileURL.path
        return full.hasPrefix(root + "/") ? String(full.dropFirst(root.count + 1)) : url.lastPathComponent
    }

    /// FNV-1a over paths and contents: cheap, stable across runs, and enough to tell two rule sets apart.
    static func version(of files: [(path: String, text: String)]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for file in files {
            for byte in file.path.utf8 + [0] + file.text.utf8 + [0] {
                hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
            }
        }
        return String(hash, radix: 16).leftPadded(to: 16)
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
