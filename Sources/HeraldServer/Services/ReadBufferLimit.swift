import NIOCore

/// Caps the buffer each connection reads into. NIO grows a connection's read buffer up to 64 KiB, and up to
/// ten of its reads can wait in the connection's inbound queue before backpressure stops the reading, so a
/// thousand connections that all send large bodies at once held most of a gigabyte before any handler ran.
/// With reads of at most `maximum` bytes that ceiling falls by the same factor; small requests, which fit in
/// one read either way, do not notice.
final class ReadBufferLimit: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = NIOAny
    typealias InboundOut = NIOAny

    let maximum: Int

    init(maximum: Int) {
        self.maximum = maximum
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let allocator = AdaptiveRecvByteBufferAllocator(minimum: 64, initial: min(2_048, maximum), maximum: maximum)
        _ = context.channel.setOption(ChannelOptions.recvAllocator, value: allocator)
    }
}
