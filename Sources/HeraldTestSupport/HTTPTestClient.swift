import Foundation
import NIOCore
import NIOPosix

/// An HTTP/1.1 client over a plain TCP connection, written byte by byte so tests control everything: headers
/// Herald must reject, bodies sent only in part, and a kept-alive connection for load.
public struct HTTPTestResponse: Sendable {
    public var status: Int
    /// Header names in lowercase.
    public var headers: [String: String]
    public var body: [UInt8]

    public var text: String { String(decoding: body, as: UTF8.self) }

    /// The body as a JSON object; empty when it is not one.
    public var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
    }
}

public struct HTTPTestRequest: Sendable {
    public var method: String
    public var path: String
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(_ method: String, _ path: String, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
    }

    public init(_ method: String, _ path: String, headers: [(String, String)] = [], json: String) {
        self.init(method, path, headers: headers + [("Content-Type", "application/json")], body: Array(json.utf8))
    }

    /// The request's bytes; `Content-Length` is added unless a header gives it.
    public func encoded(keepAlive: Bool) -> [UInt8] {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: localhost\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if !headers.contains(where: { $0.0.lowercased() == "content-length" }) {
            head += "Content-Length: \(body.count)\r\n"
        }
        head += keepAlive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n"
        return Array(head.utf8) + body
    }
}

/// One TCP connection to a server on loopback.
public final class HTTPTestConnection: @unchecked Sendable {
    // Used by one task at a time: each request is written, then its response read, before the next.
    private let channel: any Channel
    private var inbound: AsyncThrowingStream<ByteBuffer, any Error>.AsyncIterator
    private var buffered: [UInt8] = []

    public init(port: Int, host: String = "127.0.0.1") async throws {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: ByteBuffer.self)
        channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(InboundBytes(continuation: continuation))
                }
            }
            .connect(host: host, port: port).get()
        inbound = stream.makeAsyncIterator()
    }

    deinit {
        channel.close(promise: nil)
    }

    /// Sends raw bytes; the test decides whether they make a whole request.
    public func write(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    /// Sends a request and reads its response, keeping the connection open.
    public func send(_ request: HTTPTestRequest) async throws -> HTTPTestResponse {
        try await write(request.encoded(keepAlive: true))
        return try await readResponse()
    }

    public func close() async {
        try? await channel.close()
    }

    /// Reads one response: its head, then a `Content-Length` or chunked body.
    public func readResponse() async throws -> HTTPTestResponse {
        let headEnd = try await readUntil(Self.headEnd)
        let head = String(decoding: buffered[start..<headEnd], as: UTF8.self)
        consume(upTo: headEnd + 4)
        var lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { throw ClientError.malformed(head) }
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body: [UInt8] = []
        if let length = headers["content-length"].flatMap(Int.init) {
            try await fill(length)
            body = Array(buffered[start..<start + length])
            consume(upTo: start + length)
        } else if headers["transfer-encoding"]?.lowercased() == "chunked" {
            while true {
                let lineEnd = try await readUntil(Self.lineEnd)
                let sizeText = String(decoding: buffered[start..<lineEnd], as: UTF8.self).split(separator: ";")[0]
                consume(upTo: lineEnd + 2)
                guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else {
                    throw ClientError.malformed("chunk size '\(sizeText)'")
                }
                try await fill(size + 2)
                body += buffered[start..<start + size]
                consume(upTo: start + size + 2)
                if size == 0 { break }
            }
        }
        return HTTPTestResponse(status: status, headers: headers, body: body)
    }

    private static let headEnd = Array("\r\n\r\n".utf8)
    private static let lineEnd = Array("\r\n".utf8)

    /// Bytes before `start` are consumed; they are dropped only once the buffer is drained, so reading
    /// never shifts the rest.
    private var start = 0

    private func consume(upTo end: Int) {
        start = end
        if start == buffered.count {
            buffered.removeAll(keepingCapacity: true)
            start = 0
        }
    }

    private func readUntil(_ marker: [UInt8]) async throws -> Int {
        var searchFrom = start
        while true {
            if buffered.count - searchFrom >= marker.count {
                for index in searchFrom...(buffered.count - marker.count)
                where buffered[index] == marker[0] && buffered[index..<index + marker.count].elementsEqual(marker) {
                    return index
                }
                searchFrom = buffered.count - marker.count + 1
            }
            try await readMore()
        }
    }

    private func fill(_ count: Int) async throws {
        while buffered.count - start < count { try await readMore() }
    }

    private func readMore() async throws {
        guard let buffer = try await inbound.next() else { throw ClientError.closed }
        buffered += buffer.readableBytesView
    }

    public enum ClientError: Error {
        case closed
        case malformed(String)
    }
}

extension HTTPTestRequest {
    /// Sends the request on a connection of its own, closed afterwards.
    public func send(port: Int) async throws -> HTTPTestResponse {
        let connection = try await HTTPTestConnection(port: port)
        let response = try await connection.send(self)
        await connection.close()
        return response
    }
}

/// Hands what arrives on a connection to the reading task.
private final class InboundBytes: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let continuation: AsyncThrowingStream<ByteBuffer, any Error>.Continuation

    init(continuation: AsyncThrowingStream<ByteBuffer, any Error>.Continuation) {
        self.continuation = continuation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        continuation.yield(unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.finish()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        continuation.finish(throwing: error)
        context.close(promise: nil)
    }
}
