import HeraldCore

/// One message to send for one event: a channel of a workspace or connector, or a webhook.
///
/// When several rules match and name the same channel, they share one delivery that names every rule and
/// shows the union of their tags, so a channel gets one message per event, never one per rule.
public struct Delivery: Sendable, Hashable {
    public var kind: DeliveryKind
    /// The Slack workspace, Mattermost connector or webhook, by config name.
    public var target: String
    /// The channel as rendered for this event; nil for webhooks.
    public var channel: String?
    /// The names of the rules that asked for this delivery, in rule order.
    public var rules: [String]
    /// Tag keys to show, in the order the rules list them, without repeats.
    public var tags: [String]
    public var notes: [String]
    /// Set when the channel could not be rendered for this event (a channel template's tag is missing);
    /// delivery then falls back to the workspace's fallback channel or fails with this reason.
    public var problem: String?

    public init(
        kind: DeliveryKind, target: String, channel: String?, rules: [String], tags: [String] = [],
        notes: [String] = [], problem: String? = nil
    ) {
        self.kind = kind
        self.target = target
        self.channel = channel
        self.rules = rules
        self.tags = tags
        self.notes = notes
        self.problem = problem
    }
}

/// Turns matched rules into deliveries, merging those that go to the same place.
struct DeliveryPlan {
    private var deliveries: [Delivery] = []
    private var positions: [String: Int] = [:]

    mutating func add(_ rule: Rule, event: Event) {
        for action in rule.actions {
            switch action {
            case .webhook(let name):
                add(Delivery(kind: .webhook, target: name, channel: nil, rules: [rule.name]), key: "")
            case .slack(let chat), .mattermost(let chat):
                for template in chat.channels {
                    var delivery = Delivery(
                        kind: action.kind, target: chat.target, channel: nil, rules: [rule.name], tags: chat.tags,
                        notes: chat.notes.map { [$0] } ?? [])
                    switch template.render(event: event, project: rule.project) {
                    case .success(let channel):
                        delivery.channel = channel
                        add(delivery, key: channel)
                    case .failure(let missing):
                        delivery.channel = template.source
                        delivery.problem = "channel \(template.source) cannot be rendered: \(missing)"
                        add(delivery, key: "template:" + template.source)
                    }
                }
            }
        }
    }

    private mutating func add(_ delivery: Delivery, key channelKey: String) {
        let key = "\(delivery.kind.rawValue)\u{0}\(delivery.target)\u{0}\(channelKey)"
        guard let position = positions[key] else {
            positions[key] = deliveries.count
            deliveries.append(delivery)
            return
        }
        var merged = deliveries[position]
        if !merged.rules.contains(delivery.rules[0]) { merged.rules.append(delivery.rules[0]) }
        for tag in delivery.tags where !merged.tags.contains(tag) { merged.tags.append(tag) }
        for note in delivery.notes where !merged.notes.contains(note) { merged.notes.append(note) }
        deliveries[position] = merged
    }

    var result: [Delivery] { deliveries }
}
