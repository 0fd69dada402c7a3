import DocketClient
import DocketStore
import DocketTestSupport
import Foundation
import PostgresNIO
import Testing

/// A session's commands run on its event loop and take that loop's own connections
/// (`LoopPools`); when the database ends those connections, a command answers UNAVAILABLE at
/// worst, writes nothing then, and the next ones go over new connections.
@Suite("Commands on the event loop's own connections", .timeLimit(.minutes(5)))
struct LoopConnectionTests {
    /// Runs `sql` (returning one int per row) on a connection of its own.
    static func ints(_ url: DatabaseURL, _ sql: PostgresQuery) async throws -> [Int] {
        let connection = try await PostgresConnection.connect(configuration: try url.connectionConfiguration(), id: 1, logger: TestDatabase.logger)
        defer { Task { try? await connection.close() } }
        var values: [Int] = []
        for try await (value,) in try await connection.query(sql, logger: TestDatabase.logger).decode(Int.self) { values.append(value) }
        return values
    }

    static func sessionBackends(_ url: DatabaseURL) async throws -> [Int] {
        try await ints(url, "SELECT pid FROM pg_stat_activity WHERE application_name = \(LoopPools.applicationName) AND datname = current_database()")
    }

    static func create(_ client: DocketClient, _ title: String) async throws {
        try await client.call("ITEM.CREATE", "policy-paper", title, "THEME", "sustainability", "GROUP", "sustainability-wg")
    }

    @Test func commandsUseTheLoopsOwnConnectionsAndCarryOnWhenTheDatabaseEndsThem() async throws {
        try await TestServer.with { server in
            try await server.withClient { admin in try await EurasiaSection.setUp(admin) }
            try await server.withClient(user: "ana") { ana in
                for i in 1...3 { try await Self.create(ana, "Urban heat islands \(i)") }
                let before = try await Self.sessionBackends(server.url)
                #expect(!before.isEmpty, "no command went over a loop's own connection")
                #expect(before.count <= 2 * LoopPools.perLoop(poolSize: 20))

                let killed = try await Self.ints(server.url, """
                    SELECT count(pg_terminate_backend(pid))::int FROM pg_stat_activity
                    WHERE application_name = \(LoopPools.applicationName) AND datname = current_database()
                    """)
                #expect(killed == [before.count])
                var (created, failures) = (false, 0)
                for attempt in 0...(before.count + 1) where !created {
                    do {
                        try await Self.create(ana, "Green public procurement \(attempt)")
                        created = true
                    } catch let error as ServerError {
                        #expect(error.code == "UNAVAILABLE", "\(error)")
                        failures += 1
                    }
                }
                #expect(created, "no command succeeded after the loop's connections were ended")
                // A command that failed wrote nothing.
                #expect(try await Self.ints(server.url, "SELECT count(*)::int FROM items") == [4], "\(failures) failed")
                // Over a new connection (the ended ones may still be listed for a moment).
                let after = try await Self.sessionBackends(server.url)
                #expect(!Set(after).subtracting(before).isEmpty)
            }
        }
    }

    @Test func listsAndReportsRunOffTheLoopWithTheSharedPool() async throws {
        try await TestServer.with { server in
            try await server.withClient { admin in try await EurasiaSection.setUp(admin) }
            try await server.withClient(user: "ana") { ana in
                try await Self.create(ana, "Urban heat islands")
                #expect(!(try await Self.sessionBackends(server.url)).isEmpty)
                _ = try await Self.ints(server.url, """
                    SELECT count(pg_terminate_backend(pid))::int FROM pg_stat_activity
                    WHERE application_name = \(LoopPools.applicationName) AND datname = current_database()
                    """)
                // Lists and reports take the shared pool: they answer, and no loop opens a
                // connection for them.
                for _ in 0..<5 {
                    #expect(try await ana.call("ITEM.LIST").arrayValue?.count == 1)
                    _ = try await ana.call("REPORT.STATUS")
                    _ = try await ana.call("ITEM.HISTORY", "PP-1")
                    _ = try await ana.call("THEME.LIST")
                }
                // The ended backends leave pg_stat_activity shortly after; none comes back.
                var left = try await Self.sessionBackends(server.url)
                for _ in 0..<100 where !left.isEmpty {
                    try await Task.sleep(for: .milliseconds(50))
                    left = try await Self.sessionBackends(server.url)
                }
                #expect(left.isEmpty)
                // A single-item command goes over its loop's own connection again.
                try await Self.create(ana, "Green public procurement")
                #expect(!(try await Self.sessionBackends(server.url)).isEmpty)
            }
        }
    }
}
