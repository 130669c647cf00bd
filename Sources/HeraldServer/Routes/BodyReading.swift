import Hummingbird
import NIOCore

extension Request {
    /// The body, at most `limit` bytes, read within `timeout` seconds. A client that trickles its body, or
    /// stops half-way, holds a connection and a task for as long as it likes unless the read has a deadline;
    /// past it the read stops and the client is answered 408. Past `limit` it is answered 413.
    func readBody(upTo limit: Int, within timeout: Double) async throws -> ByteBuffer {
        do {
            return try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
                group.addTask { try await self.body.collect(upTo: limit) }
                group.addTask {
                    try await Task.sleep(for: .milliseconds(Int64(timeout * 1_000)))
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let body = first else {
                    throw APIError(
                        .requestTimeout,
                        "the body did not arrive within \(timeout.formatted()) s (server.body_timeout_seconds)",
                        reason: "body_timeout")
                }
                return body
            }
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, "the body is larger than \(limit) bytes", reason: "too_large")
        }
    }
}
