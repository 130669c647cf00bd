import HeraldCore
import Synchronization

/// Channel names already resolved to ids, per kind and target: filled from the database at start and as
/// posts reveal ids, so each name is looked up once.
public final class ChannelCache: Sendable {
    /// A channel name in one workspace or connector.
    private struct Key: Hashable {
        var kind: DeliveryKind
        var target: String
        var name: String
    }

    private let ids = Mutex<[Key: String]>([:])

    public init() {}

    public func id(kind: DeliveryKind, target: String, name: String) -> String? {
        ids.withLock { $0[Key(kind: kind, target: target, name: name)] }
    }

    public func remember(kind: DeliveryKind, target: String, name: String, id: String) {
        ids.withLock { $0[Key(kind: kind, target: target, name: name)] = id }
    }
}
