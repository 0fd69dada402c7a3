import DocketStore
import Foundation
import Logging
import PostgresNIO

/// A real PostgreSQL for tests: the project's own embedded cluster, started once per test
/// process under `.build/docket-test`, and a fresh database per test.
public enum TestDatabase {
    /// The package checkout this was built from.
    public static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static let logger: Logger = {
        var l = Logger(label: "docket.test")
        l.logLevel = ProcessInfo.processInfo.environment["DOCKET_TEST_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .warning
        return l
    }()

    static let dataDirectory = ProcessInfo.processInfo.environment["DOCKET_TEST_DATA_DIR"]
        ?? packageRoot.appendingPathComponent(".build/docket-test").path

    /// Settings that trade durability for speed: test clusters hold nothing of value.
    static let settings = ["fsync": "off", "synchronous_commit": "off", "full_page_writes": "off", "max_connections": "400"]

    private static let cluster = Task<DatabaseURL, any Error> {
        if let url = ProcessInfo.processInfo.environment["DOCKET_TEST_DATABASE_URL"] { return try DatabaseURL(url) }
        let embedded = EmbeddedPostgres(configuration: .init(dataDirectory: dataDirectory, settings: settings), logger: logger)
        let connection = try await embedded.start()
        if embedded.startedByThisProcess { stopAtExit(dataDirectory: dataDirectory) }
        return try DatabaseURL(connection.url)
    }

    /// The URL of the test cluster's maintenance database.
    public static func baseURL() async throws -> DatabaseURL { try await cluster.value }

    /// Creates an empty database, migrated unless `migrate` is false, and drops it afterwards.
    public static func withDatabase<T: Sendable>(migrate: Bool = true, _ body: @Sendable (DatabaseURL) async throws -> T) async throws -> T {
        await TestPermits.shared.acquire()
        do {
            let result = try await withDatabaseNow(migrate: migrate, body)
            await TestPermits.shared.release()
            return result
        } catch {
            await TestPermits.shared.release()
            throw error
        }
    }

    static func withDatabaseNow<T: Sendable>(migrate: Bool, _ body: @Sendable (DatabaseURL) async throws -> T) async throws -> T {
        let base = try await baseURL()
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        _ = try await DatabaseLocation.withClient(url: base, maximumConnections: 1, logger: logger) { client in
            try await client.query("CREATE DATABASE \(unescaped: name)", logger: logger)
        }
        var url = base
        url.database = name
        do {
            if migrate {
                _ = try await DatabaseLocation.withClient(url: url, maximumConnections: 1, logger: logger) { client in
                    try await Migrator(directory: packageRoot.appendingPathComponent("sql")).migrate(client, logger: logger)
                }
            }
            let result = try await body(url)
            try await drop(name, base: base)
            return result
        } catch {
            try? await drop(name, base: base)
            throw error
        }
    }

    /// A migrated database with a store on it.
    public static func withStore<T: Sendable>(_ body: @Sendable (Store, DatabaseURL) async throws -> T) async throws -> T {
        try await withDatabase { url in
            try await DatabaseLocation.withClient(url: url, maximumConnections: 40, logger: logger) { client in
                try await body(Store(client: client, logger: logger), url)
            }
        }
    }

    static func drop(_ name: String, base: DatabaseURL) async throws {
        _ = try await DatabaseLocation.withClient(url: base, maximumConnections: 1, logger: logger) { client in
            try await client.query("DROP DATABASE IF EXISTS \(unescaped: name) WITH (FORCE)", logger: logger)
        }
    }

    /// Stops the test cluster when the test process exits (SIGINT to the postmaster is a fast shutdown).
    static func stopAtExit(dataDirectory: String) {
        atexit {
            let data = TestDatabase.dataDirectory
            let pointer = try? String(contentsOfFile: data + "/postgres.location", encoding: .utf8)
            let cluster = pointer?.trimmingCharacters(in: .whitespacesAndNewlines) ?? data + "/postgres"
            if let pidText = try? String(contentsOfFile: cluster + "/data/postmaster.pid", encoding: .utf8),
               let pid = Int32(pidText.split(separator: "\n").first ?? "") {
                kill(pid, SIGINT)
            }
        }
    }
}
