import DocketClient
import DocketServer
import DocketTestSupport
import DocketWire
import Foundation
import Testing

/// Rights that change while a connection is open: revoked tokens and roles take effect at the
/// connection's next command, on this instance and on another one; refused AUTH attempts are
/// slowed down and then cut off; a TLS certificate is replaced without a restart.
@Suite("Sessions: revocation, AUTH rate limit, TLS reload", .timeLimit(.minutes(10)))
struct SessionSecurityTests {
    static func expectError(_ code: String, sourceLocation: SourceLocation = #_sourceLocation,
                            _ body: () async throws -> RESPValue) async {
        do {
            let reply = try await body()
            Issue.record("expected -\(code), got \(reply)", sourceLocation: sourceLocation)
        } catch let error as ServerError {
            #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("expected -\(code), got \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test("TOKEN.REVOKE: the open connection's next command is refused, and the token no longer authenticates")
    func revokedTokenOnOpenConnection() async throws {
        try await TestServer.with { server in
            try await server.withClient { admin in try await EurasiaSection.setUp(admin) }
            let token = try await server.store.createToken(for: "ana")
            let ana = try await DocketClient.connect(to: server.address)
            defer { Task { await ana.close() } }
            try await ana.auth(user: "ana", token: token)
            #expect(try await ana.call("WHOAMI")["user"]?.stringValue == "ana")
            let revoked = try await server.withClient { admin in try await admin.call("TOKEN.REVOKE", "ana") }
            #expect(revoked.intValue == 1)
            await Self.expectError("NOAUTH") { try await ana.call("WHOAMI") }
            // Now unauthenticated: everything but the pre-AUTH commands says so.
            await Self.expectError("NOAUTH") { try await ana.call("ITEM.LIST") }
            await Self.expectError("WRONGPASS") { try await ana.call("AUTH", "ana", token) }
            #expect(try await ana.call("PING").stringValue == "PONG")
            let fresh = try await server.store.createToken(for: "ana")
            try await ana.auth(user: "ana", token: fresh)
            #expect(try await ana.call("WHOAMI")["user"]?.stringValue == "ana")
        }
    }

    @Test("A token revoked through another instance stops working on this one")
    func revokedAcrossInstances() async throws {
        try await TestServer.withServers(count: 2) { servers in
            try await servers[0].withClient { admin in try await EurasiaSection.setUp(admin) }
            let token = try await servers[0].store.createToken(for: "bruno")
            let bruno = try await DocketClient.connect(to: servers[0].address)
            defer { Task { await bruno.close() } }
            try await bruno.auth(user: "bruno", token: token)
            #expect(try await bruno.call("ITEM.LIST").arrayValue != nil)
            _ = try await servers[1].withClient { admin in try await admin.call("TOKEN.REVOKE", "bruno") }
            // The other instance hears of it by LISTEN; its next command after that is refused.
            var refused: ServerError?
            var commands = 0
            let deadline = ContinuousClock.now + .seconds(10)
            while refused == nil, ContinuousClock.now < deadline {
                commands += 1
                do { _ = try await bruno.call("ITEM.LIST") } catch let e as ServerError { refused = e }
                if refused == nil { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(refused?.code == "NOAUTH", "still accepted after \(commands) commands")
            print("revocation through another instance took effect after \(commands) command(s)")
        }
    }

    @Test("A watcher whose token is revoked is disconnected at the next event")
    func revokedWatcher() async throws {
        try await TestServer.with { server in
            try await server.withClient { admin in try await EurasiaSection.setUp(admin) }
            let token = try await server.store.createToken(for: "ana")
            let watcher = try await DocketClient.connect(to: server.address)
            defer { Task { await watcher.close() } }
            try await watcher.hello(3, user: "ana", token: token)
            _ = try await watcher.call("WATCH")
            try await server.withClient(user: "sec") { sec in
                _ = try await sec.call("ITEM.CREATE", "policy-paper", "Before the revocation", "THEME", "sustainability", "GROUP", "sustainability-wg")
            }
            actor Count { var n = 0; var ended = false; func add() { n += 1 }; func end() { ended = true } }
            let count = Count()
            let consumer = Task {
                for await _ in watcher.pushes { await count.add() }
                await count.end()
            }
            defer { consumer.cancel() }
            var deadline = ContinuousClock.now + .seconds(10)
            while await count.n == 0, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            #expect(await count.n == 1)
            _ = try await server.withClient { admin in try await admin.call("TOKEN.REVOKE", "ana") }
            try await server.withClient(user: "sec") { sec in
                for i in 0..<3 {
                    _ = try await sec.call("ITEM.CREATE", "policy-paper", "After the revocation \(i)", "THEME", "sustainability", "GROUP", "sustainability-wg")
                }
            }
            // At most the event that triggered the check gets through; then the connection closes.
            deadline = ContinuousClock.now + .seconds(10)
            while await !count.ended, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            #expect(await count.ended, "the watcher is still connected after its token was revoked")
            #expect(await count.n <= 2)
        }
    }

    @Test("Roles granted or revoked apply to open connections at their next command")
    func roleChangesApplyToOpenConnections() async throws {
        try await TestServer.with { server in
            try await server.withClient { admin in try await EurasiaSection.setUp(admin) }
            try await server.withClient(user: "sec") { sec in
                _ = try await sec.call("AUDIT.VERIFY")
                _ = try await server.withClient { admin in try await admin.call("USER.REVOKE", "sec", "secretariat") }
                await Self.expectError("NOPERM") { try await sec.call("AUDIT.VERIFY") }
                let roles = try await sec.call("WHOAMI")["roles"]?.arrayValue?.compactMap(\.stringValue)
                #expect(roles == [])
                _ = try await server.withClient { admin in try await admin.call("USER.GRANT", "sec", "secretariat") }
                #expect(try await sec.call("WHOAMI")["roles"]?.arrayValue?.compactMap(\.stringValue) == ["secretariat"])
                _ = try await sec.call("AUDIT.VERIFY")
            }
        }
    }

    @Test("Refused AUTH attempts: delayed after 5, connection closed at 10; a success in between resets the count")
    func authRateLimit() async throws {
        try await TestServer.with(configure: { $0.authFailureDelay = .milliseconds(20) }) { server in
            let token = server.adminToken
            let client = try await DocketClient.connect(to: server.address)
            defer { Task { await client.close() } }
            for _ in 0..<4 { await Self.expectError("WRONGPASS") { try await client.call("AUTH", "admin", "wrong") } }
            try await client.auth(user: "admin", token: token)
            var refused = 0
            var closedAfter: Int?
            for attempt in 1...12 {
                do {
                    _ = try await client.call("AUTH", "admin", "wrong-\(attempt)")
                    Issue.record("a wrong token was accepted")
                } catch let error as ServerError {
                    #expect(error.code == "WRONGPASS")
                    refused += 1
                    if error.message.contains("closing the connection") { closedAfter = attempt }
                } catch {
                    // The connection is closed: no more attempts on it.
                    break
                }
            }
            #expect(closedAfter == 10, "refused \(refused)")
            #expect(refused == 10)
            let info = try await server.withClient { try await $0.call("INFO", "stats").stringValue ?? "" }
            #expect(info.contains("auth_failures:14"), "\(info)")
            print("AUTH: \(refused) refusals on one connection, closed after the 10th")
        }
    }

    @Test("reloadTLS: new connections get the new certificate, open ones keep working")
    func tlsReload() async throws {
        try await withTemporaryDirectory { dir in
            let first = dir + "/first", second = dir + "/second"
            for d in [first, second] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
            let (cert, key) = try await ServerTLSTests.makeCertificate(in: first)
            let (newCert, newKey) = try await ServerTLSTests.makeCertificate(in: second)
            let live = dir + "/live"
            try FileManager.default.createDirectory(atPath: live, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: cert, toPath: live + "/c.pem")
            try FileManager.default.copyItem(atPath: key, toPath: live + "/k.pem")
            try await TestServer.with(configure: { $0.tlsCertificate = live + "/c.pem"; $0.tlsKey = live + "/k.pem" }) { server in
                let old = try await DocketClient.connect(to: server.address, tls: ClientTLS(caFile: cert))
                defer { Task { await old.close() } }
                #expect(try await old.call("PING").stringValue == "PONG")
                // A broken pair is refused and the server keeps its certificate.
                try "not a certificate".write(toFile: live + "/c.pem", atomically: true, encoding: .utf8)
                #expect(throws: (any Error).self) { try server.admin.reloadTLS() }
                _ = try await server.withClient(tls: ClientTLS(caFile: cert)) { try await $0.call("PING") }

                try FileManager.default.removeItem(atPath: live + "/c.pem")
                try FileManager.default.removeItem(atPath: live + "/k.pem")
                try FileManager.default.copyItem(atPath: newCert, toPath: live + "/c.pem")
                try FileManager.default.copyItem(atPath: newKey, toPath: live + "/k.pem")
                try server.admin.reloadTLS()
                let reply = try await server.withClient(tls: ClientTLS(caFile: newCert)) { try await $0.call("PING") }
                #expect(reply.stringValue == "PONG")
                await #expect(throws: (any Error).self) {
                    _ = try await server.withClient(tls: ClientTLS(caFile: cert)) { try await $0.call("PING") }
                }
                #expect(try await old.call("PING").stringValue == "PONG")
            }
        }
    }
}
