import Hummingbird
import NIOCore

/// The context of every request Herald serves: Hummingbird's core, plus the connection's peer, which the
/// callback routes check against a connector's allowed sources. The peer is read from the channel only
/// when asked for, so ingest pays nothing for it.
struct HeraldRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    private let channel: any Channel

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }

    /// The peer's IP address as text; nil for a Unix socket or a closed connection.
    var remoteAddress: String? {
        channel.remoteAddress?.ipAddress
    }
}
