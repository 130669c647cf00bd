import Foundation
import HeraldConfig
import HeraldCore
import Yams

/// A rule read from a file: its name and where it is written, for duplicate reports, and the rule itself
/// when it is valid. Names are checked even for invalid rules, so that one run reports every problem.
struct LoadedRule {
    var project: String
    var name: String
    var nameLocation: SourceLocation
    var rule: Rule?
}

/// One pass over one parsed rule file. Every accessor reports its own problems through `reader` and returns
/// nil, so one pass finds everything wrong with the file.
struct RuleFileReading {
    let reader: YAMLReader
    let config: Config

    private static let ruleKeys = ["name", "enabled", "owner", "environment", "when", "if", "frequency", "then"]
    private static let groupKeys = ["any", "all", "none"]

    func read(_ root: Node) -> [LoadedRule] {
        guard let fields = reader.mapping(root, "rule file", allowed: ["project", "rules", "projects"]) else {
            return []
        }
        if let projects = fields["projects"] {
            if let stray = fields.keyNode("project") ?? fields.keyNode("rules") {
                reader.report("a rule file has either 'project' with 'rules' or 'projects', not both", at: stray)
            }
            return (reader.sequence(projects, "projects") ?? []).flatMap { section in
                guard let fields = reader.mapping(section, "project section", allowed: ["project", "rules"],
                                                  required: ["project", "rules"]) else { return [LoadedRule]() }
                return projectSection(fields)
            }
        }
        guard fields["project"] != nil, fields["rules"] != nil else {
            reader.report("a rule file needs 'project' and 'rules' (or 'projects' with a list of both)", at: root)
            return []
        }
        return projectSection(fields)
    }

    /// A section's rules; one missing `project` or `rules` was already reported by `mapping`, which reads on
    /// past a missing key so that every problem is listed.
    private func projectSection(_ fields: YAMLReader.Fields) -> [LoadedRule] {
        guard let slugNode = fields["project"], let rulesNode = fields["rules"] else { return [] }
        let slug = reader.nonEmptyString(slugNode, "project")
        if let slug, config.project(slug: slug) == nil {
            let slugs = config.projects.map(\.slug)
            reader.report("unknown project '\(slug)'; \(allowedValuesHint(for: slug, among: slugs))", at: slugNode)
        }
        let items = reader.sequence(rulesNode, "rules") ?? []
        return items.compactMap { rule($0, project: slug ?? "") }
    }

    // MARK: Rules

    private func rule(_ node: Node, project: String) -> LoadedRule? {
        guard let fields = reader.mapping(node, "rule", allowed: Self.ruleKeys, required: ["name", "when", "then"])
        else { return nil }
        let name = fields["name"].flatMap { reader.nonEmptyString($0, "name") }
        if let name, name.count > 256, let nameNode = fields["name"] {
            reader.report("rule name is \(name.count) characters; the limit is 256", at: nameNode)
        }
        let enabled = fields["enabled"].map { reader.bool($0, "enabled") } ?? true
        let owner = fields["owner"].flatMap { reader.nonEmptyString($0, "owner") }
        let environment = fields["environment"].flatMap { reader.nonEmptyString($0, "environment") }
        let triggers = fields["when"].flatMap(triggerCondition)
        let filters = fields["if"].map(filterCondition) ?? .all([])
        let interval = fields["frequency"].map(actionInterval) ?? Rule.defaultActionInterval
        let actions = fields["then"].flatMap(actions)

        guard let name else { return nil }
        var loaded = LoadedRule(project: project, name: name, nameLocation: reader.location(of: fields["name"]!))
        if let enabled, let triggers, let filters, let interval, let actions {
            loaded.rule = Rule(
                project: project, name: name, enabled: enabled, owner: owner, environment: environment,
                triggers: triggers, filters: filters, actionInterval: interval, actions: actions,
                location: reader.location(of: node))
        }
        return loaded
    }

    private func actionInterval(_ node: Node) -> TimeSpan? {
        guard let text = reader.string(node, "frequency") else { return nil }
        guard let span = TimeSpan(parsing: text) else {
            reader.report("'\(text)' is not a duration; write a number and a unit, like 30m, 1h or 2d", at: node)
            return nil
        }
        guard Rule.actionIntervalRange.contains(span) else {
            reader.report("'frequency' must be between 1m and 30d, not \(span)", at: node)
            return nil
        }
        return span
    }

    // MARK: Conditions

    /// Reads `any:`/`all:`/`none:` groups around leaves; `plainList` is what a bare list means at the top.
    private func condition<Leaf>(
        _ node: Node, _ field: String, plainList: ([Condition<Leaf>]) -> Condition<Leaf>,
        leaf: (Node) -> Condition<Leaf>?
    ) -> Condition<Leaf>? {
        if case .sequence = node {
            let items = reader.sequence(node, field) ?? []
            let members = items.map(leaf)
            guard members.allSatisfy({ $0 != nil }) else { return nil }
            return plainList(members.compactMap { $0 })
        }
        return leaf(node)
    }

    /// A group mapping (`any: [...]`), or nil when the node is not one.
    private func group<Leaf>(_ node: Node, _ field: String, member: (Node) -> Condition<Leaf>?) -> Condition<Leaf>?? {
        guard case .mapping(let mapping) = node, mapping.count == 1,
            case .scalar(let key)? = mapping.first?.key, Self.groupKeys.contains(key.string)
        else { return .none }
        let body = mapping.first!.value
        guard let items = reader.sequence(body, key.string) else { return .some(nil) }
        if items.isEmpty {
            reader.report("'\(key.string)' group must not be empty", at: body)
            return .some(nil)
        }
        let members = items.map(member)
        guard members.allSatisfy({ $0 != nil }) else { return .some(nil) }
        let list = members.compactMap { $0 }
        switch key.string {
        case "any": return .some(.any(list))
        case "all": return .some(.all(list))
        default: return .some(.none(list))
        }
    }

    /// The single `key: value` of a one-entry mapping, or a bare word, naming a trigger or filter.
    private func kindAndBody(_ node: Node, _ what: String, allowed: [String]) -> (kind: String, keyNode: Node, body: Node?)? {
        switch node {
        case .scalar(let scalar):
            return (scalar.string, node, nil)
        case .mapping(let mapping) where mapping.count == 1:
            guard case .scalar(let key)? = mapping.first?.key else { break }
            return (key.string, mapping.first!.key, mapping.first!.value)
        case .mapping(let mapping) where mapping.count > 1:
            let keys = mapping.keys.compactMap(\.string)
            reader.report("each \(what) is its own list item; found \(keys.joined(separator: ", ")) in one "
                + "(put a '-' before each)", at: node)
            return nil
        default:
            break
        }
        reader.report("a \(what) must be one of \(allowed.joined(separator: ", "))", at: node)
        return nil
    }

    // MARK: Triggers

    private func triggerCondition(_ node: Node) -> Condition<Trigger>? {
        if case .sequence(let items) = node, items.isEmpty {
            reader.report("'when' must name at least one trigger; allowed: \(Trigger.names.joined(separator: ", "))", at: node)
            return nil
        }
        return condition(node, "when", plainList: { .any($0) }, leaf: triggerMember)
    }

    private func triggerMember(_ node: Node) -> Condition<Trigger>? {
        if let group = group(node, "when", member: triggerMember) { return group }
        let allowed = Trigger.names + Self.groupKeys
        guard let (kind, keyNode, body) = kindAndBody(node, "trigger", allowed: allowed) else { return nil }
        let simple: [String: Trigger] = [
            "first_seen": .firstSeen, "regression": .regression, "reappeared": .reappeared, "every_event": .everyEvent,
        ]
        if let trigger = simple[kind] {
            if let body, !isTrue(body) {
                reader.report("trigger '\(kind)' takes no settings; write it as a plain list item", at: body)
                return nil
            }
            return .leaf(trigger)
        }
        guard Trigger.names.contains(kind) else {
            reader.report("unknown trigger '\(kind)'; \(allowedValuesHint(for: kind, among: allowed))", at: keyNode)
            return nil
        }
        let needed = kind == "frequency_change" ? ["percent", "interval", "compared_to"] : ["count", "interval"]
        guard let body else {
            reader.report("trigger '\(kind)' needs {\(needed.joined(separator: ", "))}", at: keyNode)
            return nil
        }
        guard let fields = reader.mapping(body, "'\(kind)' trigger", allowed: needed, required: needed) else { return nil }
        let window = fields["interval"].flatMap { interval($0, "interval") }
        switch kind {
        case "frequency_change":
            let percent = fields["percent"].flatMap { reader.number($0, "percent") }
            let comparedTo = fields["compared_to"].flatMap { interval($0, "compared_to") }
            guard let percent, let window, let comparedTo else { return nil }
            return .leaf(.frequencyChange(percent: percent, interval: window, comparedTo: comparedTo))
        default:
            let count = fields["count"].flatMap { reader.int($0, "count", range: 0...1_000_000_000) }
            guard let count, let window else { return nil }
            return .leaf(kind == "frequency" ? .frequency(count: count, interval: window)
                : .uniqueUsers(count: count, interval: window))
        }
    }

    private func interval(_ node: Node, _ field: String) -> Interval? {
        guard let text = reader.string(node, field) else { return nil }
        guard let interval = Interval(rawValue: text) else {
            reader.report("unknown interval '\(text)' for '\(field)'; \(allowedValuesHint(for: text, among: Interval.names))",
                          at: node)
            return nil
        }
        return interval
    }

    // MARK: Filters

    private func filterCondition(_ node: Node) -> Condition<Filter>? {
        condition(node, "if", plainList: { .all($0) }, leaf: filterMember)
    }

    private func filterMember(_ node: Node) -> Condition<Filter>? {
        if let group = group(node, "if", member: filterMember) { return group }
        let allowed = Filter.names + Self.groupKeys
        guard let (kind, keyNode, body) = kindAndBody(node, "filter", allowed: allowed) else { return nil }
        if kind == "latest_release" {
            if let body, !isTrue(body) {
                reader.report("filter 'latest_release' takes no settings; write it as a plain list item", at: body)
                return nil
            }
            return .leaf(.latestRelease)
        }
        guard Filter.names.contains(kind) else {
            reader.report("unknown filter '\(kind)'; \(allowedValuesHint(for: kind, among: allowed))", at: keyNode)
            return nil
        }
        guard let body else {
            reader.report("filter '\(kind)' needs settings, like \(Self.filterExample[kind]!)", at: keyNode)
            return nil
        }
        let filter: Filter? =
            switch kind {
            case "level": levelFilter(body)
            case "tag": tagFilter(body)
            case "attribute": attributeFilter(body)
            case "age": ageFilter(body)
            case "occurrences": occurrencesFilter(body)
            default: assignedToFilter(body)
            }
        return filter.map { .leaf($0) }
    }

    private static let filterExample = [
        "level": "{gte: error}", "tag": "{key: region, eq: eu-west-1}",
        "attribute": "{name: exception.type, eq: TimeoutError}", "age": "{older_than: 1d}",
        "occurrences": "{gte: 10}", "assigned_to": "unassigned",
    ]

    private func levelFilter(_ body: Node) -> Filter? {
        if case .scalar = body {  // `level: error` means eq
            return level(body).map { .level(.eq, $0) }
        }
        guard let (op, node) = oneOperator(body, "level filter", operators: Comparison.names, extraKeys: []),
            let comparison = Comparison(rawValue: op), let level = level(node)
        else { return nil }
        return .level(comparison, level)
    }

    private func level(_ node: Node) -> Level? {
        guard let text = reader.string(node, "level") else { return nil }
        guard let level = Level(name: text) else {
            reader.report("unknown level '\(text)'; \(allowedValuesHint(for: text, among: Level.names))", at: node)
            return nil
        }
        return level
    }

    private func tagFilter(_ body: Node) -> Filter? {
        guard let (op, operandNode) = oneOperator(body, "tag filter", operators: MatchOperator.names, extraKeys: ["key"])
        else { return nil }
        guard case .mapping = body, let keyNode = mappingValue(body, "key") else {
            reader.report("tag filter is missing the required key 'key'", at: body)
            return nil
        }
        guard let key = reader.nonEmptyString(keyNode, "key"), let match = valueMatch(op, operandNode) else { return nil }
        return .tag(key: key, match)
    }

    private func attributeFilter(_ body: Node) -> Filter? {
        guard let (op, operandNode) = oneOperator(
            body, "attribute filter", operators: MatchOperator.names, extraKeys: ["name"])
        else { return nil }
        guard let nameNode = mappingValue(body, "name") else {
            reader.report("attribute filter is missing the required key 'name'", at: body)
            return nil
        }
        guard let name = reader.nonEmptyString(nameNode, "name") else { return nil }
        guard let attribute = EventAttribute(name: name) else {
            reader.report("unknown attribute '\(name)'; \(allowedValuesHint(for: name, among: EventAttribute.names))",
                          at: nameNode)
            return nil
        }
        return valueMatch(op, operandNode).map { .attribute(attribute, $0) }
    }

    private func ageFilter(_ body: Node) -> Filter? {
        let names = AgeComparison.allCases.map(\.rawValue)
        guard let (op, node) = oneOperator(body, "age filter", operators: names, extraKeys: []),
            let text = reader.string(node, op)
        else { return nil }
        guard let span = TimeSpan(parsing: text) else {
            reader.report("'\(text)' is not a duration; write a number and a unit, like 30m, 1h or 2d", at: node)
            return nil
        }
        return .age(AgeComparison(rawValue: op)!, span)
    }

    private func occurrencesFilter(_ body: Node) -> Filter? {
        guard let (_, node) = oneOperator(body, "occurrences filter", operators: ["gte"], extraKeys: []),
            let count = reader.int(node, "gte", range: 0...Int(Int32.max))
        else { return nil }
        return .occurrences(atLeast: count)
    }

    private func assignedToFilter(_ body: Node) -> Filter? {
        if case .scalar(let scalar) = body {
            guard scalar.string == "unassigned" else {
                reader.report("'assigned_to' is 'unassigned', {user: email} or {team: name}, not '\(scalar.string)'",
                              at: body)
                return nil
            }
            return .assignedTo(.unassigned)
        }
        guard let (op, node) = oneOperator(body, "assigned_to filter", operators: ["user", "team"], extraKeys: []),
            let value = reader.nonEmptyString(node, op)
        else { return nil }
        if op == "team" { return .assignedTo(.team(value)) }
        guard config.user(email: value) != nil else {
            let emails = config.users.map(\.email)
            reader.report("unknown user '\(value)'; \(allowedValuesHint(for: value, among: emails))", at: node)
            return nil
        }
        return .assignedTo(.user(email: value))
    }

    /// Reads a filter body that holds exactly one operator key (plus `extraKeys`) and returns it with its value.
    private func oneOperator(_ body: Node, _ what: String, operators: [String], extraKeys: [String]) -> (String, Node)? {
        guard let fields = reader.mapping(body, what, allowed: extraKeys + operators) else { return nil }
        let found = fields.entries.filter { operators.contains($0.key) }
        if case .mapping(let mapping) = body, mapping.count > fields.entries.count, found.isEmpty {
            return nil  // the unknown key is reported already, with a suggestion
        }
        guard let first = found.first else {
            reader.report("\(what) needs an operator; allowed: \(operators.joined(separator: ", "))", at: body)
            return nil
        }
        if found.count > 1 {
            reader.report("\(what) takes one operator, found \(found.map(\.key).joined(separator: " and ")); "
                + "use an 'all' group to combine them", at: found[1].keyNode)
            return nil
        }
        return (first.key, first.value)
    }

    private func mappingValue(_ node: Node, _ key: String) -> Node? {
        guard case .mapping(let mapping) = node else { return nil }
        return mapping.first { $0.key.string == key }?.value
    }

    private func valueMatch(_ opName: String, _ node: Node) -> ValueMatch? {
        let op = MatchOperator(rawValue: opName)!
        switch op {
        case .isSet, .notSet:
            if case .scalar(let scalar) = node, reader.isNull(scalar) { return ValueMatch(op, .none) }
            guard let flag = reader.bool(node, opName) else { return nil }
            return ValueMatch(flag == (op == .isSet) ? .isSet : .notSet, .none)
        case .in, .notIn:
            guard let items = reader.stringList(node, opName) else { return nil }
            guard !items.isEmpty else {
                reader.report("'\(opName)' needs at least one value", at: node)
                return nil
            }
            return ValueMatch(op, .list(items.map(\.0)))
        case .matches, .notMatches:
            guard let source = reader.nonEmptyString(node, opName) else { return nil }
            do {
                let limits = Pattern.Limits(
                    match: UInt32(config.regex.matchLimit), depth: UInt32(config.regex.depthLimit))
                let pattern = try Pattern(source, limits: limits)
                if let subject = pattern.catastrophicSubject() {
                    reader.report(
                        "the regular expression backtracks catastrophically: on the \(subject.unicodeScalars.count)-character "
                            + "subject \(Self.quoted(subject)) it takes over a million steps, and each character more "
                            + "doubles that; nested quantifiers such as (a+)+ or (a|aa)+ do this. Write a+ instead, or make "
                            + "the inner part possessive (a++) or atomic ((?>a+))",
                        at: node)
                    return nil
                }
                return ValueMatch(op, .pattern(pattern))
            } catch {
                reader.report("invalid regular expression: \(error)", at: node)
                return nil
            }
        case .gt, .gte, .lt, .lte:
            return reader.number(node, opName).map { ValueMatch(op, .number($0)) }
        default:
            return reader.nonEmptyString(node, opName).map { ValueMatch(op, .text($0)) }
        }
    }

    /// A subject as a quoted string with its control characters escaped.
    private static func quoted(_ text: String) -> String {
        var quoted = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": quoted += "\\n"
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            case _ where scalar.value < 0x20: quoted += "\\u{\(String(scalar.value, radix: 16))}"
            default: quoted.unicodeScalars.append(scalar)
            }
        }
        return quoted + "\""
    }

    private func isTrue(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node else { return false }
        return scalar.string == "true"
    }

    // MARK: Actions

    private func actions(_ node: Node) -> [Action]? {
        guard let items = reader.sequence(node, "then") else { return nil }
        guard !items.isEmpty else {
            reader.report("'then' must name at least one action; allowed: \(Action.names.joined(separator: ", "))",
                          at: node)
            return nil
        }
        let actions = items.map(action)
        guard actions.allSatisfy({ $0 != nil }) else { return nil }
        return actions.compactMap { $0 }
    }

    private func action(_ node: Node) -> Action? {
        guard let (kind, keyNode, body) = kindAndBody(node, "action", allowed: Action.names) else { return nil }
        guard Action.names.contains(kind) else {
            reader.report("unknown action '\(kind)'; \(allowedValuesHint(for: kind, among: Action.names))", at: keyNode)
            return nil
        }
        guard let body else {
            reader.report("action '\(kind)' needs settings", at: keyNode)
            return nil
        }
        switch DeliveryKind(rawValue: kind) {
        case .webhook:
            let nameNode: Node?
            if case .scalar = body {
                nameNode = body
            } else {
                nameNode = reader.mapping(body, "webhook action", allowed: ["name"], required: ["name"])?["name"]
            }
            guard let nameNode, let name = reader.nonEmptyString(nameNode, "name") else { return nil }
            guard config.webhook(named: name) != nil else {
                let names = config.webhooks.map(\.name)
                reader.report("unknown webhook '\(name)'; \(defined(names, for: name, kind: "webhooks"))", at: nameNode)
                return nil
            }
            return .webhook(name: name)
        case .slack:
            return chatAction(body, "slack action", targetKey: "workspace", known: config.slack?.workspaces.map(\.name) ?? [],
                              targetKind: "Slack workspace", section: "slack.workspaces").map(Action.slack)
        case .mattermost, nil:
            return chatAction(body, "mattermost action", targetKey: "connector", known: config.mattermost.map(\.name),
                              targetKind: "Mattermost connector", section: "mattermost").map(Action.mattermost)
        }
    }

    private func chatAction(
        _ body: Node, _ what: String, targetKey: String, known: [String], targetKind: String, section: String
    ) -> ChatAction? {
        let keys = [targetKey, "channels", "tags", "notes"]
        guard let fields = reader.mapping(body, what, allowed: keys, required: [targetKey, "channels"]) else { return nil }
        var target = fields[targetKey].flatMap { reader.nonEmptyString($0, targetKey) }
        if let name = target, !known.contains(name) {
            reader.report("unknown \(targetKind) '\(name)'; \(defined(known, for: name, kind: section))",
                          at: fields[targetKey]!)
            target = nil
        }
        let channels = fields["channels"].flatMap(channels)
        let tags = fields["tags"].map { node in reader.stringList(node, "tags")?.map(\.0) } ?? []
        let notes = fields["notes"].flatMap { reader.string($0, "notes") }
        guard let target, let channels, let tags else { return nil }
        return ChatAction(target: target, channels: channels, tags: tags, notes: notes)
    }

    private func channels(_ node: Node) -> [ChannelTemplate]? {
        guard let items = reader.stringList(node, "channels") else { return nil }
        guard !items.isEmpty else {
            reader.report("'channels' must name at least one channel", at: node)
            return nil
        }
        var templates: [ChannelTemplate] = []
        for (text, item) in items {
            guard !text.trimmingCharacters(in: .whitespaces).isEmpty else {
                reader.report("a channel name must not be empty", at: item)
                return nil
            }
            do {
                templates.append(try ChannelTemplate(parsing: text))
            } catch {
                switch error {
                case .unterminated:
                    reader.report("channel '\(text)' has a '{{' without its closing '}}'", at: item)
                case .unknownVariable(let name):
                    let hint = allowedValuesHint(for: name, among: ChannelTemplate.variables)
                    reader.report("unknown variable '\(name)' in channel '\(text)'; \(hint)", at: item)
                }
                return nil
            }
        }
        return templates
    }

    private func defined(_ names: [String], for name: String, kind: String) -> String {
        names.isEmpty ? "the config defines no \(kind)" : allowedValuesHint(for: name, among: names)
    }
}
