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
    struct Running: Sendable {
        var process: BackgroundProcess
        var port: Int
        var listening: String
        var dataDirectory: String
        var url: DatabaseURL
        var address: ServerAddress { ServerAddress(host: "127.0.0.1", port: port) }
    }

    /// Starts `docket serve --listen 127.0.0.1:0` on a fresh database and waits for its
    /// `listening on` line; SIGKILLs it afterwards if the test left it running.
    static func withDocketServe(_ extraArguments: [String] = [], _ body: @Sendable (Running) async throws -> Void) async throws {
        let docket = CLI.docketPath
        try #require(FileManager.default.isExecutableFile(atPath: docket), "build the docket binary first: \(docket)")
        try await TestDatabase.withDatabase { url in
            try await withTemporaryDirectory { scratch in
                let data = scratch + "/data"
                let root = TestDatabase.packageRoot.path
                let process = try await BackgroundProcess.start(
                    [docket, "serve", "--listen", "127.0.0.1:0", "--data-dir", data, "--database-url", url.connectionString,
                     "--workflows", root + "/Workflows"] + extraArguments,
                    in: root, scratch: scratch, environment: ["DOCKET_LOG_LEVEL": "info"])
                defer { process.stop() }
                let line = try await process.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("listening on ") }
                let listening = try #require(line, "no listening line; stdout:\n\(process.stdout)\nstderr:\n\(process.stderr)")
                let port = try #require(Int(listening.split(separator: ":").last ?? ""), "\(listening)")
                try await body(Running(process: process, port: port, listening: listening, dataDirectory: data, url: url))
            }
        }
    }

    static func adminToken(_ running: Running) throws -> String {
        try String(contentsOfFile: running.dataDirectory + "/admin.token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("listening line, 0600 admin token, SIGTERM exits 0 and stops listening")
    func sigterm() async throws {
        try await Self.withDocketServe { server in
            #expect(server.listening == "listening on 127.0.0.1:\(server.port)")
            #expect(server.port > 0)

            // The admin token: a file only its owner can read, holding a token that works.
            let tokenPath = server.dataDirectory + "/admin.token"
            var info = stat()
            try #require(stat(tokenPath, &info) == 0, "no \(tokenPath)")
            #expect(info.st_mode & 0o777 == 0o600, "mode \(String(info.st_mode & 0o777, radix: 8))")
            let token = try Self.adminToken(server)
            #expect(!token.isEmpty)
            let client = try await DocketClient.connect(to: server.address)
            try await client.auth(user: "admin", token: token)
            #expect(try await client.call("WHOAMI")["user"]?.stringValue == "admin")
            let workflows = try await client.call("WORKFLOW.LIST").arrayValue ?? []
            let names = workflows.compactMap { $0["name"]?.stringValue }
            #expect(names.contains("policy-paper"))
            // A second, raw connection, idle when the signal comes.
            let idle = try await RawConnection.authenticated(port: server.port, token: token)
            defer { idle.close() }

            server.process.signal(SIGTERM)
            let status = try await server.process.waitForExit(timeout: .seconds(30))
            #expect(status == 0, "exit status \(status.map(String.init) ?? "none: still running"); stderr:\n\(server.process.stderr)")
            #expect(server.process.stderr.contains("admin server stopped"), "\(server.process.stderr)")

            // Open connections were closed, and nothing listens any more.
            let closed = await idle.readToEnd(timeout: .seconds(5))
            #expect(closed.closed && closed.bytes.isEmpty)
            await #expect(throws: (any Error).self) { try await client.call("PING") }
            await client.close()
            #expect(await RawConnection.canConnect(port: server.port) == false, "port \(server.port) still accepts connections")
            await #expect(throws: (any Error).self) { _ = try await DocketClient.connect(to: server.address) }
        }
    }

    @Test("SIGTERM during a pipeline: the commands it had received finish, and none is applied unanswered")
    func drainsPipeline() async throws {
        try await Self.withDocketServe { server in
            let adminToken = try Self.adminToken(server)
            let admin = try await DocketClient.connect(to: server.address)
            try await admin.auth(user: "admin", token: adminToken)
            try await admin.call("GROUP.ADD", "sustainability-wg", "Sustainability working group", "THEME", "sustainability")
            try await admin.call("USER.ADD", "ana", "Ana Petrova")
            try await admin.call("USER.GRANT", "ana", "drafter", "GROUP", "sustainability-wg")
            let token = try #require(try await admin.call("TOKEN.CREATE", "ana").stringValue)
            await admin.close()
            let ana = try await DocketClient.connect(to: server.address)
            try await ana.auth(user: "ana", token: token)
            #expect(try await ana.call("ITEM.CREATE", "policy-paper", "Noise maps", "GROUP", "sustainability-wg")["id"]?.stringValue == "PP-1")
            await ana.close()

            let count = 40
            let c = try await RawConnection.authenticated(port: server.port, user: "ana", token: token)
            defer { c.close() }
            let marker = Array("$4\r\nhash\r\n".utf8)  // once in every event map
            @Sendable func replies(_ bytes: [UInt8]) -> Int {
                guard bytes.count >= marker.count else { return 0 }
                return (0...(bytes.count - marker.count)).filter { bytes[$0..<($0 + marker.count)].elementsEqual(marker) }.count
            }
            try await c.send((1...count).map { "ITEM.COMMENT PP-1 \"note \($0)\"\r\n" }.joined())
            let first = await c.read(until: { replies($0) >= 1 }, timeout: .seconds(30))
            #expect(replies(first.bytes) >= 1)

            server.process.signal(SIGTERM)
            let rest = await c.readToEnd(timeout: .seconds(30))
            let answered = replies(first.bytes + rest.bytes)
            #expect(rest.closed, "the connection must be closed at shutdown")
            let status = try await server.process.waitForExit(timeout: .seconds(30))
            #expect(status == 0, "stderr:\n\(server.process.stderr)")
            // The command running at SIGTERM and those queued behind it were answered...
            #expect(answered == count, "\(answered) of \(count) pipelined commands answered")
            // ...and the log holds exactly the answered ones, plus the creation.
            let audit = try await DatabaseLocation.withClient(url: server.url, maximumConnections: 1, logger: TestDatabase.logger) { client in
                try await Store(client: client, logger: TestDatabase.logger).verify(item: "PP-1")
            }
            #expect(audit.events == 1 + answered)
            #expect(audit.ok)
        }
    }
}
