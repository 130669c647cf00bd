import HeraldCore
import Synchronization

/// Channel names already resolved to ids, per kind and target: filled from the database at start and as
/// posts reveal ids, so each name is looked up once.
public final class ChannelCache: Sendable {
    /// A channel name in one workspace or connector.
    public struct Key: Hashable, Sendable {
        public var kind: DeliveryKind
        public var target: String
        public var name: String

        public init(kind: DeliveryKind, target: String, name: String) {
            self.kind = kind
            self.target = target
            self.name = name
        }
    }

    private let ids = Mutex<[Key: String]>([:])

    public init() {}

    public func id(_ key: Key) -> String? {
        ids.withLock { $0[key] }
    }

    public func remember(_ key: Key, id: String) {
        ids.withLock { $0[key] = id }
    }
}
