/// An event attribute that rules can test, named as Sentry's event attribute filter names them.
///
/// Each attribute yields zero or more text values for one event: `exception.type` has one value per
/// exception in the chain, `stacktrace.module` one per frame.
public enum EventAttribute: Sendable, Hashable, CustomStringConvertible {
    case message
    case platform
    case environment
    case type
    case errorHandled
    case errorUnhandled
    case exceptionType
    case exceptionValue
    case userID
    case userEmail
    case userUsername
    case userIPAddress
    case httpMethod
    case httpURL
    case httpStatusCode
    case sdkName
    case stacktraceCode
    case stacktraceModule
    case stacktraceFilename
    case stacktraceAbsPath
    case stacktracePackage
    /// A value under `extra`, reached by a dotted path (`extra.order.id`).
    case extra(path: String)

    private static let fixed: [(String, EventAttribute)] = [
        ("message", .message), ("platform", .platform), ("environment", .environment), ("type", .type),
        ("error.handled", .errorHandled), ("error.unhandled", .errorUnhandled),
        ("exception.type", .exceptionType), ("exception.value", .exceptionValue),
        ("user.id", .userID), ("user.email", .userEmail), ("user.username", .userUsername),
        ("user.ip_address", .userIPAddress),
        ("http.method", .httpMethod), ("http.url", .httpURL), ("http.status_code", .httpStatusCode),
        ("sdk.name", .sdkName),
        ("stacktrace.code", .stacktraceCode), ("stacktrace.module", .stacktraceModule),
        ("stacktrace.filename", .stacktraceFilename), ("stacktrace.abs_path", .stacktraceAbsPath),
        ("stacktrace.package", .stacktracePackage),
    ]

    /// Every attribute name a rule may use; `extra.<path>` stands for any path under `extra`.
    public static let names: [String] = fixed.map(\.0) + ["extra.<path>"]

    public init?(name: String) {
        if name.hasPrefix("extra."), name.count > "extra.".count {
            self = .extra(path: String(name.dropFirst("extra.".count)))
        } else if let match = Self.fixed.first(where: { $0.0 == name }) {
            self = match.1
        } else {
            return nil
        }
    }

    public var description: String {
        if case .extra(let path) = self { return "extra.\(path)" }
        return Self.fixed.first { $0.1 == self }!.0
    }
}

extension Event {
    /// The values an attribute has on this event, as rule filters see them (Sentry's `_get_attribute_values`).
    public func values(of attribute: EventAttribute) -> [String] {
        var values: [String] = []
        appendValues(of: attribute, to: &values)
        return values
    }

    /// Appends the attribute's values to `values`: `values(of:)` without an array of its own, for callers
    /// that gather many fields into one.
    public func appendValues(of attribute: EventAttribute, to values: inout [String]) {
        func add(_ value: String?) { if let value { values.append(value) } }
        /// One field of every frame of every exception, read in place.
        func addFrames(_ field: (ExceptionInfo.Frame) -> String?) {
            for i in exceptions.indices { for j in exceptions[i].frames.indices { add(field(exceptions[i].frames[j])) } }
        }
        switch attribute {
        case .message: add(message)
        case .platform: add(platform)
        case .environment: add(environment)
        case .type: values.append(type)
        // Indexing reads one field of each exception in place; `for exception in exceptions` would copy each.
        case .errorHandled: for i in exceptions.indices { add(exceptions[i].mechanism?.handled.map { $0 ? "true" : "false" }) }
        case .errorUnhandled: for i in exceptions.indices { add(exceptions[i].mechanism?.handled.map { $0 ? "false" : "true" }) }
        case .exceptionType: for i in exceptions.indices { add(exceptions[i].type) }
        case .exceptionValue: for i in exceptions.indices { add(exceptions[i].value) }
        case .userID: add(user?.id)
        case .userEmail: add(user?.email)
        case .userUsername: add(user?.username)
        case .userIPAddress: add(user?.ipAddress)
        case .httpMethod: add(request?.method)
        case .httpURL: add(request?.url)
        case .httpStatusCode: values += contexts["response"]?.value(at: ["status_code"])?.scalarTexts ?? []
        case .sdkName: add(sdk?.name)
        case .stacktraceCode: addFrames { $0.contextLine }
        case .stacktraceModule: addFrames { $0.module }
        case .stacktraceFilename: addFrames { $0.filename }
        case .stacktraceAbsPath: addFrames { $0.absPath }
        case .stacktracePackage: addFrames { $0.package }
        case .extra(let path):
            let keys = path.split(separator: ".")
            guard let first = keys.first, let root = extra[String(first)] else { return }
            values += root.value(at: keys.dropFirst())?.scalarTexts ?? []
        }
    }
}
