import Crypto
import Foundation
import HeraldConsole
import HeraldHTTP
import HeraldTestSupport
import Testing

/// TLS in front of Herald: Debian's nginx, configured from examples/deploy/nginx.conf with a certificate made
/// here, proxying to a real server. Ingest, a signed Slack command and the console work through it, and the
/// console's cookie is Secure. Skipped where nginx or openssl is missing (`.ci/run` installs both).
@Suite struct ReverseProxyTests {
    static let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../examples/deploy/nginx.conf").standardizedFileURL.path
    static var available: Bool {
        FileManager.default.isExecutableFile(atPath: "/usr/sbin/nginx") && FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl")
    }

    @Test(.enabled(if: available, "needs nginx and openssl"))
    func heraldBehindNginxWithTLS() async throws {
        let directory = TemporaryDirectory()
        let tlsPort = try FreePort.pick()
        // A self-signed certificate for 127.0.0.1.
        let openssl = try ChildProcess("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", directory.path + "/key.pem", "-out", directory.path + "/cert.pem",
        ])
        let (made, why) = await openssl.result(within: .seconds(60))
        #expect(made == 0, "\(why)")

        let config = RunningServer.configYAML(directory: directory.path)
            .replacingOccurrences(of: "public_url: \"https://herald.example.com\"", with: "public_url: \"https://127.0.0.1:\(tlsPort)\"")
        let server = try await RunningServer(rules: [:], configYAML: config, directory: directory)

        // The documented site, pointed at this server, this port and this certificate; its plain-HTTP
        // redirect server is left out (port 80 is not ours to take).
        var site = try String(contentsOfFile: Self.example, encoding: .utf8)
        site = String(site[..<(site.range(of: "server {\n    listen 80;")?.lowerBound ?? site.endIndex)])
        site = site.replacingOccurrences(of: "listen 443 ssl;", with: "listen 127.0.0.1:\(tlsPort) ssl;")
            .replacingOccurrences(of: "listen [::]:443 ssl;\n", with: "")
            .replacingOccurrences(of: "/etc/ssl/herald/fullchain.pem", with: directory.path + "/cert.pem")
            .replacingOccurrences(of: "/etc/ssl/herald/privkey.pem", with: directory.path + "/key.pem")
            .replacingOccurrences(of: "http://127.0.0.1:8080", with: "http://127.0.0.1:\(server.port)")
        directory.write("nginx/site.conf", site)
        let main = directory.write("nginx/nginx.conf", """
            worker_processes 1;
            pid \(directory.path)/nginx/nginx.pid;
            error_log \(directory.path)/nginx/error.log;
            events { worker_connections 64; }
            http {
                access_log off;
                client_body_temp_path \(directory.path)/nginx/body;
                proxy_temp_path \(directory.path)/nginx/proxy;
                include \(directory.path)/nginx/site.conf;
            }
            """)
        let nginx = try ChildProcess("/usr/sbin/nginx", ["-p", directory.path + "/nginx", "-c", main, "-g", "daemon off; user root;"])
        defer { nginx.signal(SIGQUIT) }
        let client = HTTPClient(configuration: .init(verifyTLS: false))
        defer { client.shutdown() }
        let base = "https://127.0.0.1:\(tlsPort)"
        try await eventually(timeout: .seconds(30), "nginx listens") {
            (try? await client.send(HTTPClient.Request("GET", base + "/healthz")))?.status == 200
        }

        let ingest = try await client.send(HTTPClient.Request(
            "POST", base + "/api/1/store/?sentry_key=pk-1", headers: [("Content-Type", "application/json")],
            body: Array(#"{"message": "through nginx", "level": "error"}"#.utf8)))
        #expect(ingest.status == 200, "\(ingest.text)")

        // Slack's signature covers the raw body, which must reach Herald unchanged through the proxy.
        let body = "team_id=T0ACME&user_id=U0ALICE&channel_id=C0RANDOM&channel_name=random&command=%2Fherald&text=status+PAYMENTS-1"
        let timestamp = String(Int(Date().timeIntervalSince1970))
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data("v0:\(timestamp):\(body)".utf8), using: SymmetricKey(data: Data("signing".utf8)))
        let signature = "v0=" + mac.map { String(format: "%02x", $0) }.joined()
        let command = try await client.send(HTTPClient.Request(
            "POST", base + "/slack/commands",
            headers: [("Content-Type", "application/x-www-form-urlencoded"), ("X-Slack-Request-Timestamp", timestamp),
                      ("X-Slack-Signature", signature)],
            body: Array(body.utf8)))
        #expect(command.status == 200, "\(command.text)")
        #expect(command.text.contains("PAYMENTS-1"), "\(command.text)")

        // The console over https: the session cookie is Secure, and the link in messages names the https URL.
        let link = try await SignInLinks(store: server.server.store, config: server.server.config).issue(email: "alice@example.com", via: "test")
        #expect(link.hasPrefix(base + "/login/link/"))
        let token = String(link.split(separator: "/").last ?? "")
        let signIn = try await client.send(HTTPClient.Request(
            "POST", base + "/login/link", headers: [("Content-Type", "application/x-www-form-urlencoded")],
            body: Array("token=\(token)".utf8)))
        #expect(signIn.status == 303)
        let cookie = signIn.headers.first { $0.key.lowercased() == "set-cookie" }?.value ?? ""
        #expect(cookie.contains("Secure") && cookie.contains("HttpOnly"), "\(cookie)")
        try await server.stop()
    }
}
