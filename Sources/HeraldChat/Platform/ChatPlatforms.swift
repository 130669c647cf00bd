import HeraldConfig
import HeraldCore
import HeraldHTTP

/// Every platform the config names, by kind and name: what delivery, `test-connection` and the channel
/// cache iterate over instead of switching on kinds.
public struct ChatPlatforms: Sendable {
    public let all: [any ChatPlatform]
    private let byTarget: [PlatformKey: any ChatPlatform]

    /// A platform's identity: its kind and its name in the config.
    private struct PlatformKey: Hashable {
        var kind: DeliveryKind
        var target: String
    }

    public init(config: Config, http: HTTPClient, signer: ButtonSigner) {
        let context = PlatformContext(http: http, signer: signer, publicURL: config.server.publicURL)
        all = SlackPlatform.platforms(config: config, context: context)
            + MattermostPlatform.platforms(config: config, context: context)
            + WebhookPlatform.platforms(config: config, context: context)
        var byTarget: [PlatformKey: any ChatPlatform] = [:]
        for platform in all { byTarget[PlatformKey(kind: platform.kind, target: platform.target)] = platform }
        self.byTarget = byTarget
    }

    /// The platform a delivery goes to.
    public func platform(kind: DeliveryKind, target: String) -> (any ChatPlatform)? {
        byTarget[PlatformKey(kind: kind, target: target)]
    }

    /// The platforms of a name, of one kind when `kind` is given.
    public func named(_ name: String, kind: DeliveryKind? = nil) -> [any ChatPlatform] {
        all.filter { $0.target == name && (kind == nil || $0.kind == kind) }
    }

    /// The kinds that post into channels, whose channel names the cache keeps.
    public var channelKinds: [DeliveryKind] {
        DeliveryKind.allCases.filter { kind in kind.hasChannels && all.contains { $0.kind == kind } }
    }
}

/// What every platform shares: the HTTP client, the key that signs buttons, and Herald's public URL.
public struct PlatformContext: Sendable {
    public var http: HTTPClient
    public var signer: ButtonSigner
    public var publicURL: String
}
