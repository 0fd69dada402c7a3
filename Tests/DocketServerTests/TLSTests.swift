import DocketClient
import DocketTestSupport
import DocketWire
import Foundation
import Testing

/// The admin server with `tlsCertificate`/`tlsKey`: TLS only, verified by DocketClient and by
/// `redis-cli --tls`.
@Suite("Admin server over TLS", .timeLimit(.minutes(10)))
struct ServerTLSTests {
    /// A self-signed certificate for localhost and 127.0.0.1, made by openssl in `directory`.
    static func makeCertificate(in directory: String) async throws -> (cert: String, key: String) {
        let openssl = try Tool.openssl()
        let result = try await CLI.run(openssl, [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
            "-keyout", "k.pem", "-out", "c.pem", "-days", "1",
        ], in: directory)
        try #require(result.status == 0, "openssl failed: \(result.stderr)")
        return (directory + "/c.pem", directory + "/k.pem")
    }

    static func withTLSServer(_ body: @Sendable (TestServer, _ cert: String) async throws -> Void) async throws {
        try await withTemporaryDirectory { dir in
            let (cert, key) = try await makeCertificate(in: dir)
            try await TestServer.with(configure: { $0.tlsCertificate = cert; $0.tlsKey = key }) { server in
                try await body(server, cert)
            }
        }
    }

    @Test("DocketClient trusting the certificate works in RESP2 and RESP3; without it the handshake fails")
    func docketClient() async throws {
        try await Self.withTLSServer { server, cert in
            for resp3 in [false, true] {
                let me = try await server.withClient(resp3: resp3, tls: ClientTLS(caFile: cert)) { c in
                    #expect(try await c.call("PING").stringValue == "PONG")
                    #expect(c.protocolVersion == (resp3 ? .resp3 : .resp2))
                    return try await c.call("WHOAMI")
                }
                #expect(me["user"]?.stringValue == "admin")
            }
            // System roots do not know a self-signed certificate.
            await #expect(throws: (any Error).self) {
                try await server.withClient(tls: ClientTLS()) { c in try await c.call("PING") }
            }
            // Nor does a CA file holding some other certificate.
            let otherDirectory = NSTemporaryDirectory() + "docket-other-ca-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: otherDirectory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: otherDirectory) }
            let (otherCert, _) = try await Self.makeCertificate(in: otherDirectory)
            await #expect(throws: (any Error).self) {
                try await server.withClient(tls: ClientTLS(caFile: otherCert)) { c in try await c.call("PING") }
            }
            // The refused handshakes did not disturb the server.
            let pong = try await server.withClient(tls: ClientTLS(caFile: cert)) { c in try await c.call("PING") }
            #expect(pong.stringValue == "PONG")
        }
    }

    @Test("redis-cli --tls --cacert: PING, AUTH and WHOAMI, RESP2 and RESP3; without --cacert it fails")
    func redisCLI() async throws {
        try await Self.withTLSServer { server, cert in
            let anonymous = try RedisCLI(port: server.port, extra: ["--tls", "--cacert", cert])
            let ping = try await anonymous.run("PING")
            #expect(ping.stdout == "PONG\n", "\(ping.stdout)\(ping.stderr)")
            for flags in [[], ["-3"]] {
                let admin = try RedisCLI(port: server.port, user: "admin", token: server.adminToken, extra: ["--tls", "--cacert", cert] + flags)
                let whoami = try await admin.run("WHOAMI")
                #expect(whoami.stdout.hasPrefix(flags.isEmpty ? "user\nadmin\n" : "user admin\n"), "\(whoami.stdout)\(whoami.stderr)")
            }
            let unverified = try RedisCLI(port: server.port, extra: ["--tls"])
            let refused = try await unverified.run("PING")
            #expect(!refused.stdout.contains("PONG"))
            #expect(refused.status != 0 || refused.stderr.contains("certificate"), "\(refused.stdout)\(refused.stderr)")
            // A plaintext redis-cli gets no answer either.
            let plain = try RedisCLI(port: server.port)
            #expect(!(try await plain.run("PING")).stdout.contains("PONG"))
        }
    }

    @Test("a plaintext connection gets no PONG and is closed; TLS clients are unaffected")
    func plaintextRefused() async throws {
        try await Self.withTLSServer { server, cert in
            let raw = try await RawConnection.connect(port: server.port)
            defer { raw.close() }
            _ = await raw.sendAll(Array("PING\r\nPING\r\n".utf8))
            let answer = await raw.readToEnd(timeout: .seconds(10))
            #expect(!answer.text.contains("PONG"))
            #expect(answer.closed, "the server must close a connection that does not speak TLS")
            let me = try await server.withClient(tls: ClientTLS(caFile: cert)) { c in try await c.call("WHOAMI") }
            #expect(me["user"]?.stringValue == "admin")
        }
    }

    @Test("TLS 1.2 is the oldest version accepted: a client offering at most TLS 1.1 is refused by the server")
    func oldProtocolsRefused() async throws {
        let python = try Tool.require("python3", install: "apt-get install -y python3")
        // The client allows TLS 1.0 and 1.1 at its end (security level 0), so a refusal comes
        // from the server; TLS 1.2 through the same script is the control.
        let script = """
            import socket, ssl, sys
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = getattr(ssl.TLSVersion, sys.argv[2])
            try:
                with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10) as raw:
                    with ctx.wrap_socket(raw) as tls:
                        print("connected", tls.version())
            except ssl.SSLError as e:
                print("refused", e.reason)
            """
        try await Self.withTLSServer { server, _ in
            let old = try await CLI.run(python, ["-c", script, String(server.port), "TLSv1_1"])
            #expect(old.stdout.hasPrefix("refused"), "\(old.stdout)\(old.stderr)")
            #expect(old.stdout.contains("PROTOCOL_VERSION") || old.stdout.contains("UNSUPPORTED_PROTOCOL"), "\(old.stdout)")
            let current = try await CLI.run(python, ["-c", script, String(server.port), "TLSv1_2"])
            #expect(current.stdout == "connected TLSv1.2\n", "\(current.stdout)\(current.stderr)")
            print("TLS: at most 1.1 -> \(old.stdout.trimmingCharacters(in: .whitespacesAndNewlines)); 1.2 -> \(current.stdout.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
    }
}
