import DocketClient
import DocketStore
import DocketTestSupport
import DocketWire
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The real `docket serve` binary: it prints where it listens, writes the admin token with mode
/// 0600, and on SIGTERM closes its connections, stops listening and exits 0.
@Suite("docket serve: start, admin token, SIGTERM", .timeLimit(.minutes(10)))
struct GracefulShutdownTests {
    @Test("listening line, 0600 admin token, SIGTERM exits 0 and stops listening")
    func sigterm() async throws {
        let docket = CLI.docketPath
        try #require(FileManager.default.isExecutableFile(atPath: docket), "build the docket binary first: \(docket)")
        try await TestDatabase.withDatabase { url in
            try await withTemporaryDirectory { scratch in
                let data = scratch + "/data"
                let root = TestDatabase.packageRoot.path
                let server = try await BackgroundProcess.start(
                    [docket, "serve", "--listen", "127.0.0.1:0", "--data-dir", data, "--database-url", url.connectionString,
                     "--workflows", root + "/Workflows"],
                    in: root, scratch: scratch, environment: ["DOCKET_LOG_LEVEL": "info"])
                defer { server.stop() }

                let line = try await server.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("listening on ") }
                let listening = try #require(line, "no listening line; stdout:\n\(server.stdout)\nstderr:\n\(server.stderr)")
                let port = try #require(Int(listening.split(separator: ":").last ?? ""), "\(listening)")
                #expect(listening == "listening on 127.0.0.1:\(port)")
                #expect(port > 0)

                // The admin token: a file only its owner can read, holding a token that works.
                let tokenPath = data + "/admin.token"
                var info = stat()
                try #require(stat(tokenPath, &info) == 0, "no \(tokenPath)")
                #expect(info.st_mode & 0o777 == 0o600, "mode \(String(info.st_mode & 0o777, radix: 8))")
                let token = try String(contentsOfFile: tokenPath, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
                #expect(!token.isEmpty)
                let address = ServerAddress(host: "127.0.0.1", port: port)
                let client = try await DocketClient.connect(to: address)
                try await client.auth(user: "admin", token: token)
                #expect(try await client.call("WHOAMI")["user"]?.stringValue == "admin")
                let workflows = try await client.call("WORKFLOW.LIST").arrayValue ?? []
                let names = workflows.compactMap { $0["name"]?.stringValue }
                #expect(names.contains("policy-paper"))
                // A second, raw connection, idle when the signal comes.
                let idle = try await RawConnection.authenticated(port: port, token: token)
                defer { idle.close() }

                server.signal(SIGTERM)
                let status = try await server.waitForExit(timeout: .seconds(30))
                #expect(status == 0, "exit status \(status.map(String.init) ?? "none: still running"); stderr:\n\(server.stderr)")
                #expect(server.stderr.contains("admin server stopped"), "\(server.stderr)")

                // Open connections were closed, and nothing listens any more.
                let closed = await idle.readToEnd(timeout: .seconds(5))
                #expect(closed.closed && closed.bytes.isEmpty)
                await #expect(throws: (any Error).self) { try await client.call("PING") }
                await client.close()
                #expect(await RawConnection.canConnect(port: port) == false, "port \(port) still accepts connections")
                await #expect(throws: (any Error).self) { _ = try await DocketClient.connect(to: address) }
            }
        }
    }
}
