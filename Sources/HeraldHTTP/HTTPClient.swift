// HeraldHTTP is Herald's outbound HTTP client. It runs on libcurl's multi interface: one driver
// thread moves every transfer at once and keeps connections alive between them (and multiplexes over
// HTTP/2 where the server offers it); callers just `await` a response. No libcurl type leaves this module.

import CCurl
import Foundation
import Synchronization

extension HTTPClient {
    /// A request to send.
    public struct Request: Sendable {
        public var method: String
        public var url: String
        public var headers: [(String, String)]
        public var body: [UInt8]
        /// For the whole exchange; nil takes the client's `totalTimeout`.
        public var timeout: Duration?

        public init(
            _ method: String = "GET", _ url: String, headers: [(String, String)] = [], body: [UInt8] = [],
            timeout: Duration? = nil
        ) {
            self.method = method
            self.url = url
            self.headers = headers
            self.body = body
            self.timeout = timeout
        }
    }

    /// A response as received.
    public struct Response: Sendable {
        public var status: Int
        /// Header names in lowercase; a repeated header keeps its last value.
        public var headers: [String: String]
        public var body: [UInt8]

        public var text: String { String(decoding: body, as: UTF8.self) }
    }
}

/// Why a request got no response.
public enum HTTPClientError: Error, Equatable, CustomStringConvertible {
    /// The connection could not be made within the connect timeout, or was refused.
    case connectionFailed(String)
    /// The whole exchange took longer than the total timeout.
    case timedOut(String)
    /// Any other transport failure (TLS, DNS, a malformed answer), with libcurl's description.
    case transport(String)
    /// The request could not be set up (a bad URL or method).
    case invalidRequest(String)
    /// The client was shut down.
    case shutDown

    public var description: String {
        switch self {
        case .connectionFailed(let reason): "connection failed: \(reason)"
        case .timedOut(let reason): "timed out: \(reason)"
        case .transport(let reason): "transport error: \(reason)"
        case .invalidRequest(let reason): "invalid request: \(reason)"
        case .shutDown: "the HTTP client is shut down"
        }
    }
}

/// An HTTP client on one libcurl multi handle, driven by one thread of its own.
public final class HTTPClient: Sendable {
    public struct Configuration: Sendable {
        public var connectTimeout: Duration
        /// For the whole exchange, connect included.
        public var totalTimeout: Duration
        /// Turning this off is for tests against self-signed servers only.
        public var verifyTLS: Bool
        /// Connections kept open per host, for reuse.
        public var maxConnectionsPerHost: Int

        public init(
            connectTimeout: Duration = .seconds(5), totalTimeout: Duration = .seconds(30),
            verifyTLS: Bool = true,
            maxConnectionsPerHost: Int = 16
        ) {
            self.connectTimeout = connectTimeout
            self.totalTimeout = totalTimeout
            self.verifyTLS = verifyTLS
            self.maxConnectionsPerHost = maxConnectionsPerHost
        }
    }

    public let configuration: Configuration
    private let driver: Driver

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        driver = Driver(configuration: configuration)
        let driver = self.driver
        let thread = Thread { driver.run() }
        thread.name = "herald-http"
        thread.start()
    }

    /// Sends the request and waits for its response. Cancelling the waiting task abandons the transfer.
    public func send(_ request: HTTPClient.Request) async throws -> HTTPClient.Response {
        let id = driver.nextID()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                driver.submit(Driver.Pending(id: id, request: request, continuation: continuation))
            }
        } onCancel: {
            driver.cancel(id)
        }
    }

    /// Fails every transfer in progress and stops the driver thread.
    public func shutdown() {
        driver.shutdown()
    }

    deinit {
        driver.shutdown()
    }
}

/// The multi handle and everything only its thread touches, plus the queue other threads hand work over by.
private final class Driver: @unchecked Sendable {
    // `multi` and `transfers` belong to the driver thread; other threads reach the driver only through
    // `inbox` (behind its mutex) and `curl_multi_wakeup`, which libcurl allows from any thread.
    struct Pending {
        var id: UInt64
        var request: HTTPClient.Request
        var continuation: CheckedContinuation<HTTPClient.Response, any Error>
    }

    private struct Inbox {
        var pending: [Pending] = []
        var cancelled: [UInt64] = []
        var stopping = false
        var nextID: UInt64 = 0
    }

    private let configuration: HTTPClient.Configuration
    private let multi: UnsafeMutableRawPointer
    private let inbox = Mutex(Inbox())
    private var transfers: [UInt64: Transfer] = [:]
    private var byHandle: [UnsafeMutableRawPointer: UInt64] = [:]

    /// libcurl's process-wide set-up, done once before the first handle.
    private static let globalInit: Void = {
        _ = curl_global_init(Int(CURL_GLOBAL_SSL | CURL_GLOBAL_WIN32))
    }()

    init(configuration: HTTPClient.Configuration) {
        Self.globalInit
        self.configuration = configuration
        multi = curl_multi_init()!
        herald_curl_multi_setopt_long(multi, CURLMOPT_PIPELINING, Int(CURLPIPE_MULTIPLEX))
        herald_curl_multi_setopt_long(
            multi, CURLMOPT_MAX_HOST_CONNECTIONS, configuration.maxConnectionsPerHost)
    }

    /// The multi handle outlives the thread: other threads may still wake it after the loop has ended.
    deinit {
        curl_multi_cleanup(multi)
    }

    func nextID() -> UInt64 {
        inbox.withLock { inbox in
            inbox.nextID += 1
            return inbox.nextID
        }
    }

    func submit(_ pending: Pending) {
        let accepted = inbox.withLock { inbox -> Bool in
            guard !inbox.stopping else { return false }
            inbox.pending.append(pending)
            return true
        }
        guard accepted else {
            pending.continuation.resume(throwing: HTTPClientError.shutDown)
            return
        }
        curl_multi_wakeup(multi)
    }

    func cancel(_ id: UInt64) {
        inbox.withLock { $0.cancelled.append(id) }
        curl_multi_wakeup(multi)
    }

    func shutdown() {
        let wasStopping = inbox.withLock { inbox in
            defer { inbox.stopping = true }
            return inbox.stopping
        }
        if !wasStopping { curl_multi_wakeup(multi) }
    }

    /// The driver thread: start what was submitted, move every transfer, finish what is done, wait.
    func run() {
        while true {
            let (pending, cancelled, stopping) = inbox.withLock { inbox in
                defer {
                    inbox.pending = []
                    inbox.cancelled = []
                }
                return (inbox.pending, inbox.cancelled, inbox.stopping)
            }
            for item in pending { start(item) }
            for id in cancelled { finish(id, with: .failure(CancellationError())) }
            if stopping {
                for id in Array(transfers.keys) { finish(id, with: .failure(HTTPClientError.shutDown)) }
                return
            }
            var running: Int32 = 0
            curl_multi_perform(multi, &running)
            collectFinished()
            var ready: Int32 = 0
            curl_multi_poll(multi, nil, 0, 1_000, &ready)
        }
    }

    private func start(_ pending: Pending) {
        do {
            let transfer = try Transfer(
                pending.request, configuration: configuration, continuation: pending.continuation)
            transfers[pending.id] = transfer
            byHandle[transfer.easy] = pending.id
            curl_multi_add_handle(multi, transfer.easy)
        } catch {
            pending.continuation.resume(throwing: error)
        }
    }

    private func collectFinished() {
        var left: Int32 = 0
        while let message = curl_multi_info_read(multi, &left) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle,
                let id = byHandle[easy], let transfer = transfers[id]
            else { continue }
            let code = herald_curl_msg_result(message)
            finish(
                id,
                with: code == CURLE_OK
                    ? .success(transfer.response()) : .failure(Transfer.error(code, transfer)))
        }
    }

    private func finish(_ id: UInt64, with result: Result<HTTPClient.Response, any Error>) {
        guard let transfer = transfers.removeValue(forKey: id) else { return }
        byHandle[transfer.easy] = nil
        curl_multi_remove_handle(multi, transfer.easy)
        transfer.continuation.resume(with: result)
    }
}

/// One exchange: its easy handle, its header list, and what has arrived so far.
private final class Transfer {
    let easy: UnsafeMutableRawPointer
    let continuation: CheckedContinuation<HTTPClient.Response, any Error>
    private var headerList: UnsafeMutablePointer<curl_slist>?
    /// libcurl writes a failure's details here; it must stay put for the transfer's life.
    private let errorBuffer: UnsafeMutablePointer<CChar> = {
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        buffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        return buffer
    }()
    fileprivate var body: [UInt8] = []
    fileprivate var headers: [String: String] = [:]

    init(
        _ request: HTTPClient.Request, configuration: HTTPClient.Configuration,
        continuation: CheckedContinuation<HTTPClient.Response, any Error>
    ) throws {
        let method = request.method.uppercased()
        guard !method.isEmpty, method.allSatisfy({ $0.isLetter }) else {
            throw HTTPClientError.invalidRequest("'\(request.method)' is not an HTTP method")
        }
        guard let easy = curl_easy_init() else {
            throw HTTPClientError.invalidRequest("libcurl could not start a transfer")
        }
        self.easy = easy
        self.continuation = continuation
        herald_curl_easy_setopt_string(easy, CURLOPT_URL, request.url)
        herald_curl_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        herald_curl_easy_setopt_long(
            easy, CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(configuration.connectTimeout))
        herald_curl_easy_setopt_long(
            easy, CURLOPT_TIMEOUT_MS, Self.milliseconds(request.timeout ?? configuration.totalTimeout))
        herald_curl_easy_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, configuration.verifyTLS ? 1 : 0)
        herald_curl_easy_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, configuration.verifyTLS ? 2 : 0)
        herald_curl_easy_setopt_long(easy, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_2TLS))
        herald_curl_easy_setopt_string(easy, CURLOPT_PROTOCOLS_STR, "http,https")
        herald_curl_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer)
        if method == "GET" {
            herald_curl_easy_setopt_long(easy, CURLOPT_HTTPGET, 1)
        } else {
            if method == "HEAD" { herald_curl_easy_setopt_long(easy, CURLOPT_NOBODY, 1) }
            herald_curl_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, method)
        }
        if !request.body.isEmpty || method == "POST" || method == "PUT" || method == "PATCH" {
            // COPYPOSTFIELDS copies the body, so it need not outlive this call; the size comes first.
            herald_curl_easy_setopt_long(easy, CURLOPT_POSTFIELDSIZE, request.body.count)
            var body = request.body + [0]
            _ = body.withUnsafeMutableBytes { bytes in
                herald_curl_easy_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, bytes.baseAddress)
            }
        }
        // An empty `Expect:` stops libcurl from waiting for `100 Continue` before sending larger bodies.
        for (name, value) in request.headers + [("Expect", "")] {
            headerList = curl_slist_append(headerList, "\(name): \(value)")
        }
        herald_curl_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, headerList)
        let context = Unmanaged.passUnretained(self).toOpaque()
        herald_curl_easy_setopt_data_callback(easy, CURLOPT_WRITEFUNCTION) {
            data, size, count, context in
            let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
            let length = size * count
            data.map {
                transfer.body.append(contentsOf: UnsafeRawBufferPointer(start: $0, count: length))
            }
            return length
        }
        herald_curl_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, context)
        herald_curl_easy_setopt_data_callback(easy, CURLOPT_HEADERFUNCTION) {
            data, size, count, context in
            let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
            let length = size * count
            if let data {
                transfer.header(
                    String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self))
            }
            return length
        }
        herald_curl_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, context)
    }

    deinit {
        curl_easy_cleanup(easy)
        curl_slist_free_all(headerList)
        errorBuffer.deallocate()
    }

    /// One header line; a status line (a new response, after a redirect or `100 Continue`) starts afresh.
    private func header(_ line: String) {
        if line.hasPrefix("HTTP/") {
            headers = [:]
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
            in: .whitespacesAndNewlines)
    }

    func response() -> HTTPClient.Response {
        var status = 0
        herald_curl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        return HTTPClient.Response(status: status, headers: headers, body: body)
    }

    static func error(_ code: CURLcode, _ transfer: Transfer) -> HTTPClientError {
        let detail = String(cString: transfer.errorBuffer)
        let reason = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        switch code {
        case CURLE_OPERATION_TIMEDOUT: return .timedOut(reason)
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return .connectionFailed(reason)
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL: return .invalidRequest(reason)
        default: return .transport(reason)
        }
    }

    private static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return Int(seconds) * 1_000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
