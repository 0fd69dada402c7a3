import DocketClient
import DocketWire
import Testing

@Suite("DocketClient over TLS")
struct TLSTests {
    /// Runs `body` with a TLS test server using a fresh self-signed certificate.
    private func withTLSServer(_ body: (TestRESPServer, TestCertificate) async throws -> Void) async throws {
        let certificate = try TestCertificate.make()
        defer { certificate.remove() }
        try await withServer(tls: try certificate.serverContext()) { server in
            try await body(server, certificate)
        }
    }

    @Test("a client trusting the CA file connects by host name")
    func trustedByName() async throws {
        try await withTLSServer { server, certificate in
            let address = ServerAddress(host: "localhost", port: server.port)
            let client = try await DocketClient.connect(to: address, tls: ClientTLS(caFile: certificate.certificatePath))
            #expect(try await client.call("PING") == .simpleString("PONG"))
            #expect(try await client.pipeline((0..<100).map { ["ECHO", "\($0)"] }).last == .bulk("99"))
            await client.close()
        }
    }

    @Test("an IP address with serverName checks the certificate against that name")
    func trustedByServerName() async throws {
        try await withTLSServer { server, certificate in
            let tls = ClientTLS(caFile: certificate.certificatePath, serverName: "localhost")
            let client = try await DocketClient.connect(to: server.address, tls: tls)
            #expect(try await client.call("ECHO", "tls") == .bulk("tls"))
            await client.close()

            let wrongName = ClientTLS(caFile: certificate.certificatePath, serverName: "docket.example.com")
            await #expect(throws: ClientError.self) {
                try await DocketClient.connect(to: server.address, tls: wrongName)
            }
        }
    }

    @Test("a client without the CA fails to connect")
    func untrusted() async throws {
        try await withTLSServer { server, _ in
            let address = ServerAddress(host: "localhost", port: server.port)
            do {
                let client = try await DocketClient.connect(to: address, tls: ClientTLS())
                await client.close()
                Issue.record("connected to a server with an untrusted certificate")
            } catch let error as ClientError {
                guard case .connectionFailed(let failed, let reason) = error else {
                    Issue.record("unexpected error \(error)")
                    return
                }
                #expect(failed == address)
                #expect(reason.contains("TLS handshake failed"))
            }
        }
    }

    @Test("verify: false connects without the CA")
    func noVerification() async throws {
        try await withTLSServer { server, _ in
            let client = try await DocketClient.connect(to: server.address, tls: ClientTLS(verify: false))
            #expect(try await client.call("PING") == .simpleString("PONG"))
            await client.close()
        }
    }

    @Test("a missing CA file is reported as a connection failure")
    func missingCAFile() async throws {
        try await withTLSServer { server, certificate in
            let tls = ClientTLS(caFile: certificate.directory.appendingPathComponent("missing.pem").path)
            await #expect(throws: ClientError.self) {
                try await DocketClient.connect(to: server.address, tls: tls)
            }
        }
    }

    @Test("a server that never completes the handshake fails the connect after the timeout")
    func handshakeTimeout() async throws {
        try await withServer(silent: true) { server in
            let clock = ContinuousClock()
            let start = clock.now
            do {
                let client = try await DocketClient.connect(
                    to: server.address, tls: ClientTLS(verify: false), timeout: .milliseconds(300)
                )
                await client.close()
                Issue.record("connected without a handshake")
            } catch let error as ClientError {
                guard case .connectionFailed(_, let reason) = error else {
                    Issue.record("unexpected error \(error)")
                    return
                }
                #expect(reason.contains("timed out"))
            }
            #expect(clock.now - start < .seconds(60), "fails rather than hangs")
        }
    }
}
