import DocketClient
import DocketServer
import DocketStore
import DocketTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing

/// `docket health`: HEALTH needs no login; exit 0 when the server and its database answer,
/// 69 when the database is unavailable or the server cannot be reached.
@Suite("docket health", .timeLimit(.minutes(10)))
struct HealthCommandTests {
    /// No user, no token, no stored login: HEALTH is allowed before AUTH.
    static func environment(home: String) -> [String: String] {
        ["XDG_CONFIG_HOME": home + "/config", "HOME": home, "DOCKET_USER": "", "DOCKET_TOKEN": "", "DOCKET_SERVER": "", "DOCKET_DATA_DIR": home + "/data"]
    }

    @Test("a healthy server: text and JSON, exit 0, without any token")
    func healthy() async throws {
        try await TestServer.with { server in
            try await withProcessScratch { home in
                let env = Self.environment(home: home)
                let text = try await CLI.docket(["health", "--server", "127.0.0.1:\(server.port)"], in: home, environment: env)
                #expect(text.status == 0, "\(text.stderr)")
                let lines = text.stdout.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
                #expect(lines.contains(["status", "ok"]), "\(text.stdout)")
                #expect(lines.contains { $0.first == "database" && $0.dropFirst().first == "ok" }, "\(text.stdout)")
                #expect(lines.contains { $0.first == "server" && $0.last == "127.0.0.1:\(server.port)" }, "\(text.stdout)")
                #expect(lines.contains { $0.first == "uptime" }, "\(text.stdout)")
                #expect(text.stderr.isEmpty)

                let json = try await CLI.docket(["health", "--json", "--server", "127.0.0.1:\(server.port)"], in: home, environment: env)
                #expect(json.status == 0, "\(json.stderr)")
                let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], "\(json.stdout)")
                #expect(object["status"] as? String == "ok")
                #expect(object["database"] as? String == "ok")
                let ms = try #require(object["database_ms"] as? Int, "\(json.stdout)")
                #expect(ms >= 0)
                #expect((object["version"] as? String)?.isEmpty == false)
                #expect((object["uptime_s"] as? Int).map { $0 >= 0 } == true)
                print("health: ok in \(ms) ms (SELECT 1 round trip as the server measured it)")
            }
        }
    }

    @Test("nothing listening: exit 69, one line on stderr, JSON status unreachable")
    func unreachable() async throws {
        try await withProcessScratch { home in
            let port = try Self.closedPort()
            let env = Self.environment(home: home)
            let text = try await CLI.docket(["health", "--server", "127.0.0.1:\(port)"], in: home, environment: env)
            #expect(text.status == 69)
            #expect(text.oneLineError && text.stderr.contains("connection refused"), "\(text.stderr)")
            let json = try await CLI.docket(["health", "--json", "--server", "127.0.0.1:\(port)"], in: home, environment: env)
            #expect(json.status == 69)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], "\(json.stdout)")
            #expect(object["status"] as? String == "unreachable")
            #expect((object["error"] as? String)?.contains("connection refused") == true)
        }
    }

    @Test("a server whose database is gone: status unavailable with the reason, exit 69, within the timeout")
    func databaseUnavailable() async throws {
        try await withProcessScratch { home in
            var logger = Logger(label: "docket.test.health")
            logger.logLevel = .error
            // A pool pointed at a socket directory where no PostgreSQL listens.
            let url = try DatabaseURL("postgres://docket@/docket?host=\(home)/nosocket&port=5432")
            let client = PostgresClient(configuration: url.clientConfiguration(maximumConnections: 2), backgroundLogger: logger)
            let store = Store(client: client, logger: logger, timeout: .seconds(1))
            var configuration = ServerConfiguration()
            configuration.port = 0
            let server = try AdminServer(configuration: configuration, store: store, hub: EventHub(store: store, logger: logger), logger: logger)
            try await withThrowingTaskGroup(of: Void.self) { group in
                await DatabaseLocation.startRunning([client], in: &group, returning: ())
                group.addTask { try await server.run() }
                defer { group.cancelAll() }
                let port = try #require(try await server.boundAddress().port)
                let env = Self.environment(home: home)
                let started = ContinuousClock.now
                let text = try await CLI.docket(["health", "--server", "127.0.0.1:\(port)"], in: home, environment: env)
                #expect(text.status == 69, "\(text.stdout)\(text.stderr)")
                #expect(text.stdout.contains("unavailable"), "\(text.stdout)")
                let json = try await CLI.docket(["health", "--json", "--server", "127.0.0.1:\(port)"], in: home, environment: env)
                let elapsed = ContinuousClock.now - started
                #expect(json.status == 69)
                let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], "\(json.stdout)")
                #expect(object["status"] as? String == "unavailable")
                let reason = try #require(object["database"] as? String)
                #expect(reason != "ok" && !reason.isEmpty)
                #expect(elapsed < .seconds(20), "two health checks took \(elapsed)")
                print("health: database unavailable reported as \"\(reason.prefix(100))\"; two checks in \(elapsed)")
            }
        }
    }

    /// A port nothing listens on: bound, then closed.
    static func closedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw ProcessServer.Failure(description: "cannot bind a probe socket") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
