import Foundation
import HeraldHTTP
import HeraldTestSupport
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Testing

/// A request context that knows the client's port, so a test can tell whether connections were reused.
struct PeerContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let peerPort: Int

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peerPort = source.channel.remoteAddress?.port ?? -1
    }
}

/// A real HTTP server on a free loopback port, with the routes the client tests need.
final class TestHTTPServer: Sendable {
    private let server: LoopbackServer
    var port: Int { server.port }

    init() async throws {
        let router = Router(context: PeerContext.self)
        router.get("/hello") { _, _ in
            Response(status: .ok, headers: [HTTPField.Name("X-Test")!: "yes"], body: .init(byteBuffer: ByteBuffer(string: "hi")))
        }
        router.on("/echo", method: .post) { request, _ in
            try await Self.echo(request)
        }
        router.on("/echo", method: .put) { request, _ in
            try await Self.echo(request)
        }
        router.get("/status/:code") { _, context in
            let code = Int(context.parameters.get("code") ?? "") ?? 500
            return Response(status: .init(code: code), body: .init(byteBuffer: ByteBuffer(string: "status \(code)")))
        }
        router.get("/peer") { _, context in
            String(context.peerPort)
        }
        router.get("/slow") { _, _ in
            try await Task.sleep(for: .milliseconds(1_500))
            return "late"
        }
        server = await LoopbackServer(router: router)
    }

    private static func echo(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: 10 << 20)
        let contentType = request.headers[.contentType] ?? "-"
        return Response(
            status: .ok, headers: [HTTPField.Name("X-Method")!: request.method.rawValue, .contentType: contentType],
            body: .init(byteBuffer: body))
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    func stop() async throws {
        try await server.stop()
    }
}

@Suite struct HTTPClientTests {
    @Test func getsAndPostsWithHeadersAndBodies() async throws {
        let server = try await TestHTTPServer()
        let client = HTTPClient()
        let hello = try await client.send(HTTPClient.Request("GET", server.url("/hello")))
        #expect(hello.status == 200)
        #expect(hello.text == "hi")
        #expect(hello.headers["x-test"] == "yes")

        let body = Array(#"{"text": "déjà vu"}"#.utf8)
        let echo = try await client.send(HTTPClient.Request(
            "POST", server.url("/echo"), headers: [("Content-Type", "application/json; charset=utf-8")], body: body))
        #expect(echo.status == 200)
        #expect(echo.body == body)
        #expect(echo.headers["x-method"] == "POST")
        #expect(echo.headers["content-type"] == "application/json; charset=utf-8")

        let large = [UInt8]((0..<300_000).map { UInt8($0 % 251) })
        let put = try await client.send(HTTPClient.Request("PUT", server.url("/echo"), body: large))
        #expect(put.headers["x-method"] == "PUT")
        #expect(put.body == large)

        let empty = try await client.send(HTTPClient.Request("POST", server.url("/echo")))
        #expect(empty.status == 200)
        #expect(empty.body.isEmpty)
        client.shutdown()
        try await server.stop()
    }

    @Test func sequentialRequestsReuseOneConnection() async throws {
        let server = try await TestHTTPServer()
        let client = HTTPClient()
        var ports = Set<String>()
        for _ in 0..<20 {
            ports.insert(try await client.send(HTTPClient.Request("GET", server.url("/peer"))).text)
        }
        #expect(ports.count == 1, "\(ports)")
        client.shutdown()
        try await server.stop()
    }

    @Test(arguments: [201, 404, 429, 500, 503])
    func errorStatusesAreResponsesNotErrors(code: Int) async throws {
        let server = try await TestHTTPServer()
        let client = HTTPClient()
        let response = try await client.send(HTTPClient.Request("GET", server.url("/status/\(code)")))
        #expect(response.status == code)
        #expect(response.text == "status \(code)")
        client.shutdown()
        try await server.stop()
    }

    @Test func manyTransfersAtOnce() async throws {
        let server = try await TestHTTPServer()
        let client = HTTPClient()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for number in 0..<300 {
                group.addTask {
                    let body = Array("request \(number)".utf8)
                    let response = try await client.send(HTTPClient.Request("POST", server.url("/echo"), body: body))
                    #expect(response.body == body)
                }
            }
            try await group.waitForAll()
        }
        client.shutdown()
        try await server.stop()
    }

    @Test func aRefusedConnectionIsAConnectionFailure() async throws {
        // A port held bound but not listening: refused for certain, where a stopped server's port could be
        // taken at once by another test's server.
        let (port, release) = try FreePort.refusing()
        defer { release() }
        let url = "http://127.0.0.1:\(port)/hello"
        let client = HTTPClient()
        await #expect {
            try await client.send(HTTPClient.Request("GET", url))
        } throws: { error in
            guard case .connectionFailed = error as? HTTPClientError else { return false }
            return true
        }
        client.shutdown()
    }

    @Test func aSlowAnswerTimesOut() async throws {
        let server = try await TestHTTPServer()
        let client = HTTPClient()
        // The server answers after 1.5 s; a timed-out error (not the late answer) shows the 300 ms limit acted.
        await #expect {
            try await client.send(HTTPClient.Request("GET", server.url("/slow"), timeout: .milliseconds(300)))
        } throws: { error in
            guard case .timedOut = error as? HTTPClientError else { return false }
            return true
        }
        // A slow transfer does not hold up another.
        #expect(try await client.send(HTTPClient.Request("GET", server.url("/hello"))).status == 200)
        client.shutdown()
        try await server.stop()
    }

    @Test func cancellingTheCallerAbandonsTheTransfer() async throws {
        let server = try await TestHTTPServer()
        let client = HTTPClient()
        let task = Task { try await client.send(HTTPClient.Request("GET", server.url("/slow"))) }
        try await Task.sleep(for: .milliseconds(100))
        task.cancel()
        let result = await task.result
        #expect(throws: CancellationError.self) { try result.get() }
        client.shutdown()
        try await server.stop()
    }

    @Test func aBadURLOrMethodIsRefusedUpFront() async throws {
        let client = HTTPClient()
        for request in [HTTPClient.Request("GET", "ftp://example.com/file"), HTTPClient.Request("GE T", "http://127.0.0.1/")] {
            await #expect {
                try await client.send(request)
            } throws: { error in
                guard case .invalidRequest = error as? HTTPClientError else { return false }
                return true
            }
        }
        client.shutdown()
        await #expect(throws: HTTPClientError.shutDown) {
            try await client.send(HTTPClient.Request("GET", "http://127.0.0.1/"))
        }
    }
}
