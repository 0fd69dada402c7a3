import DocketClient
import DocketTestSupport
import DocketWire
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The real `docket serve` process: SIGHUP reloads its TLS certificate; `--metrics-listen`
/// serves Prometheus text and health checks; logs are logfmt lines carrying request ids.
@Suite("docket serve: SIGHUP, metrics listener, structured logs", .timeLimit(.minutes(10)))
struct ServeProcessTests {
    @Test("SIGHUP: connections made after it get the new certificate")
    func sighupReloadsTLS() async throws {
        try await withTemporaryDirectory { dir in
            let first = dir + "/first", second = dir + "/second", live = dir + "/live"
            for d in [first, second, live] { try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true) }
            let (cert, key) = try await ServerTLSTests.makeCertificate(in: first)
            let (newCert, newKey) = try await ServerTLSTests.makeCertificate(in: second)
            try FileManager.default.copyItem(atPath: cert, toPath: live + "/c.pem")
            try FileManager.default.copyItem(atPath: key, toPath: live + "/k.pem")
            try await GracefulShutdownTests.withDocketServe(["--tls-cert", live + "/c.pem", "--tls-key", live + "/k.pem"]) { server in
                let token = try GracefulShutdownTests.adminToken(server)
                let old = try await DocketClient.connect(to: server.address, tls: ClientTLS(caFile: cert))
                defer { Task { await old.close() } }
                try await old.auth(user: "admin", token: token)

                for name in ["c.pem", "k.pem"] { try FileManager.default.removeItem(atPath: live + "/" + name) }
                try FileManager.default.copyItem(atPath: newCert, toPath: live + "/c.pem")
                try FileManager.default.copyItem(atPath: newKey, toPath: live + "/k.pem")
                server.process.signal(SIGHUP)
                // The reload is logged once done; then new connections must present the new certificate.
                let deadline = ContinuousClock.now + .seconds(20)
                while !server.process.stderr.contains("TLS certificate reloaded"), ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(50))
                }
                #expect(server.process.stderr.contains("TLS certificate reloaded"), "\(server.process.stderr)")
                let fresh = try await DocketClient.connect(to: server.address, tls: ClientTLS(caFile: newCert))
                try await fresh.auth(user: "admin", token: token)
                #expect(try await fresh.call("PING").stringValue == "PONG")
                await fresh.close()
                await #expect(throws: (any Error).self) {
                    let stale = try await DocketClient.connect(to: server.address, tls: ClientTLS(caFile: cert))
                    defer { Task { await stale.close() } }
                    _ = try await stale.call("PING")
                }
                // The connection opened before the reload is untouched; the process is still up.
                #expect(try await old.call("PING").stringValue == "PONG")
                #expect(server.process.exitStatus == nil)
            }
        }
    }

    @Test("--metrics-listen: curl sees the commands just run; logs are logfmt with request ids")
    func metricsListenerAndLogs() async throws {
        let curl = try Tool.require("curl", install: "apt-get install -y curl")
        try await GracefulShutdownTests.withDocketServe(["--metrics-listen", "127.0.0.1:0", "--log-level", "debug"]) { server in
            let line = try await server.process.waitForLine(timeout: .seconds(30)) { $0.hasPrefix("metrics on ") }
            let metricsPort = try #require(line.flatMap { Int($0.split(separator: ":").last ?? "") }, "\(server.process.stdout)")
            let token = try GracefulShutdownTests.adminToken(server)
            let client = try await DocketClient.connect(to: server.address)
            try await client.auth(user: "admin", token: token)
            for _ in 0..<3 { _ = try await client.call("WORKFLOW.LIST") }
            _ = try? await client.call("ITEM.GET", "PP-424242")
            await client.close()

            let r = try await CLI.run(curl, ["-sf", "http://127.0.0.1:\(metricsPort)/metrics"])
            #expect(r.status == 0)
            #expect(r.stdout.contains(#"docket_commands_total{command="WORKFLOW.LIST",outcome="ok"} 3"#), "\(r.stdout)")
            #expect(r.stdout.contains(#"docket_commands_total{command="ITEM.GET",outcome="NOTFOUND"} 1"#))
            #expect(r.stdout.contains(#"docket_command_duration_seconds_count{command="WORKFLOW.LIST"} 3"#))
            for name in ["docket_timers_fired_total", "docket_database_pool_size 20", "docket_connections_open", "docket_watchers_open"] {
                #expect(r.stdout.contains(name), "\(name)")
            }
            let ready = try await CLI.run(curl, ["-s", "-w", " %{http_code}", "http://127.0.0.1:\(metricsPort)/health/ready"])
            #expect(ready.stdout == "ready\n 200")

            // Every stderr line is logfmt; the NOTFOUND command's line carries its request id.
            let lines = server.process.stderr.split(separator: "\n")
            #expect(!lines.isEmpty)
            for l in lines { #expect(l.hasPrefix("ts=") && l.contains(" level=") && l.contains(" msg="), "\(l)") }
            let failed = lines.first { $0.contains("docket.command=ITEM.GET") && $0.contains("docket.outcome=NOTFOUND") }
            #expect(failed?.contains("docket.request=") == true, "\(server.process.stderr)")
            print("docket serve: \(lines.count) logfmt lines; metrics on port \(metricsPort)")
        }
    }
}
