import HeraldCore

/// One message to send for one event: a channel of a workspace or connector, or a webhook.
///
/// When several rules match and name the same channel, they share one delivery that names every rule and
/// shows the union of their tags, so a channel gets one message per event, never one per rule.
///
/// Immutable and shared: a delivery that one rule asks for on its own is prepared when the rules are
/// compiled and handed out as is; only merged or rendered deliveries are made per event.
public final class Delivery: Sendable, Hashable, CustomStringConvertible {
    public let kind: DeliveryKind
    /// The Slack workspace, Mattermost connector or webhook, by config name.
    public let target: String
    /// The channel as rendered for this event; nil for webhooks.
    public let channel: String?
    /// The names of the rules that asked for this delivery, in rule order.
    public let rules: [String]
    /// Tag keys to show, in the order the rules list them, without repeats.
    public let tags: [String]
    public let notes: [String]
    /// Set when the channel could not be rendered for this event (a channel template's tag is missing);
    /// delivery then falls back to the workspace's fallback channel or fails with this reason.
    public let problem: String?
    /// The template the channel was rendered from, when it takes parts from the event: such a channel may
    /// not exist, and then the workspace's fallback channel takes the message.
    public let channelTemplate: String?

    public init(
        kind: DeliveryKind, target: String, channel: String?, rules: [String], tags: [String] = [],
        notes: [String] = [], problem: String? = nil, channelTemplate: String? = nil
    ) {
        self.kind = kind
        self.target = target
        self.channel = channel
        self.rules = rules
        self.tags = tags
        self.notes = notes
        self.problem = problem
        self.channelTemplate = channelTemplate
    }

    /// Whether two deliveries go to the same place and so merge into one.
    func sharesDestination(with other: Delivery) -> Bool {
        kind == other.kind && channel == other.channel && target == other.target
            && (problem == nil) == (other.problem == nil)
    }

    /// This delivery with another's rules, tags and notes added.
    func merging(_ other: Delivery) -> Delivery {
        func union(_ base: [String], _ more: [String]) -> [String] {
            more.reduce(into: base) { list, item in if !list.contains(item) { list.append(item) } }
        }
        return Delivery(
            kind: kind, target: target, channel: channel, rules: union(rules, other.rules), tags: union(tags, other.tags),
            notes: union(notes, other.notes), problem: problem, channelTemplate: channelTemplate ?? other.channelTemplate)
    }

    public static func == (lhs: Delivery, rhs: Delivery) -> Bool {
        lhs === rhs
            || (lhs.kind == rhs.kind && lhs.target == rhs.target && lhs.channel == rhs.channel && lhs.rules == rhs.rules
                && lhs.tags == rhs.tags && lhs.notes == rhs.notes && lhs.problem == rhs.problem
                && lhs.channelTemplate == rhs.channelTemplate)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(kind)
        hasher.combine(target)
        hasher.combine(channel)
        hasher.combine(rules)
    }

    public var description: String {
        "\(kind.rawValue) \(target)\(channel.map { " \($0)" } ?? "") rules: \(rules)"
            + (tags.isEmpty ? "" : " tags: \(tags)") + (problem.map { " problem: \($0)" } ?? "")
    }
}

/// One delivery of one rule, prepared before any event arrives: complete for a literal channel or a
/// webhook, waiting for its channel to be rendered when the channel takes parts from the event.
struct PlannedDelivery: Sendable {
    let delivery: Delivery
    let template: ChannelTemplate?

    /// Every delivery a rule asks for, in action and channel order.
    static func plan(_ rule: Rule) -> [PlannedDelivery] {
        rule.actions.flatMap { action -> [PlannedDelivery] in
            switch action {
            case .webhook(let name):
                return [PlannedDelivery(delivery: Delivery(kind: .webhook, target: name, channel: nil, rules: [rule.name]),
                                        template: nil)]
            case .slack(let chat), .mattermost(let chat):
                return chat.channels.map { template in
                    let delivery = Delivery(
                        kind: action.kind, target: chat.target, channel: template.isLiteral ? template.source : nil,
                        rules: [rule.name], tags: chat.tags, notes: chat.notes.map { [$0] } ?? [])
                    return PlannedDelivery(delivery: delivery, template: template.isLiteral ? nil : template)
                }
            }
        }
    }
}

/// Turns matched rules into deliveries, merging those that go to the same place: the same kind, target
/// and channel (or, for a channel that could not be rendered, the same template).
struct DeliveryPlan {
    /// One event asks for a handful of deliveries, so a linear search beats hashing.
    private(set) var result: [Delivery] = []

    init(capacity: Int = 0) {
        result.reserveCapacity(capacity)
    }

    mutating func add(_ planned: [PlannedDelivery], project: String, event: Event) {
        for item in planned {
            guard let template = item.template else {
                add(item.delivery)
                continue
            }
            let base = item.delivery
            switch template.render(event: event, project: project) {
            case .success(let channel):
                add(Delivery(kind: base.kind, target: base.target, channel: channel, rules: base.rules, tags: base.tags,
                             notes: base.notes, channelTemplate: template.source))
            case .failure(let missing):
                add(Delivery(kind: base.kind, target: base.target, channel: template.source, rules: base.rules,
                             tags: base.tags, notes: base.notes,
                             problem: "channel \(template.source) cannot be rendered: \(missing)",
                             channelTemplate: template.source))
            }
        }
    }

    private mutating func add(_ delivery: Delivery) {
        if let position = result.firstIndex(where: { $0.sharesDestination(with: delivery) }) {
            result[position] = result[position].merging(delivery)
        } else {
            result.append(delivery)
        }
    }
}
