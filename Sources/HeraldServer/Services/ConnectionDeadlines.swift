import CoreMetrics
import NIOCore
import NIOHTTPTypes

/// Closes a connection that holds the door without sending a request: one that has not sent its first
/// request's head within the header deadline of opening, or the next one within the idle deadline of the
/// previous response. Bytes that trickle in do not count, only a complete head does, so a client that sends
/// its headers a byte a second is closed as surely as one that sends nothing. Bodies have deadlines of their
/// own, where the routes read them.
///
/// A response that ends before its request's body (a refusal sent before the body is read) leaves the rest of
/// that body to be read and dropped here: otherwise nothing reads it, a client still sending it blocks, and
/// never reads the answer. What it may send meanwhile is bounded by the idle deadline.
///
/// It costs no timer per request: a request's head and its response's end only note the time, and one timer
/// per connection wakes at the earliest moment a deadline could pass, then sets itself again.
final class ConnectionDeadlines: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    struct Limits: Sendable {
        /// From a connection's opening to its first request's complete head.
        var header: TimeAmount
        /// From a response's end to the next request's complete head, on a kept-alive connection.
        var idle: TimeAmount
    }

    private struct Wait {
        var since: NIODeadline
        var allowed: TimeAmount
        var reason: String
        var deadline: NIODeadline { since + allowed }
    }

    private let limits: Limits
    private let metrics: HeraldMetrics
    /// Requests whose head has come and whose response has not ended (more than one when pipelined).
    private var open = 0
    /// What the connection is waiting for, while no request is open.
    private var wait: Wait?
    /// The last request's head has come and its end not yet.
    private var bodyComing = false
    /// Its response has ended: the rest of its body is dropped.
    private var discarding = false
    private var timer: Scheduled<Void>?

    init(limits: Limits, metrics: HeraldMetrics) {
        self.limits = limits
        self.metrics = metrics
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        if timer == nil { start(context) }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stop()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            open += 1
            wait = nil
            bodyComing = true
        case .body:
            if discarding { return }
        case .end:
            bodyComing = false
            discarding = false
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), open > 0 {
            open -= 1
            if open == 0 {
                wait = Wait(since: .now(), allowed: limits.idle, reason: "idle_timeout")
                // With no other request open, the answered one is the last one read: if its body is still
                // coming, no one else will read it.
                discarding = bodyComing
            }
        }
        context.write(data, promise: promise)
        // Reading waits on the consumer's demand, and no consumer will ask for what is dropped: ask here.
        if discarding { context.read() }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
        if discarding { context.read() }
    }

    private func start(_ context: ChannelHandlerContext) {
        guard timer == nil else { return }
        wait = Wait(since: .now(), allowed: limits.header, reason: "header_timeout")
        arm(context, in: limits.header)
    }

    private func stop() {
        timer?.cancel()
        timer = nil
    }

    private func arm(_ context: ChannelHandlerContext, in delay: TimeAmount) {
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: delay) { [self] in
            timer = nil
            check(context)
        }
    }

    /// Closes the connection if its wait is over; otherwise wakes again when it could be.
    private func check(_ context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        guard let wait else {
            // A request is open: the next wait can begin no sooner than now and end no sooner than this.
            arm(context, in: min(limits.header, limits.idle))
            return
        }
        let now = NIODeadline.now()
        guard now < wait.deadline else {
            metrics.connectionsClosed(reason: wait.reason).increment()
            context.close(promise: nil)
            return
        }
        arm(context, in: wait.deadline - now)
    }
}
