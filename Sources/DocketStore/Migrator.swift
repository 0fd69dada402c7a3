import DocketCore
import Foundation
import Logging
import PostgresNIO

/// Applies the numbered files of `sql/` in order, each once, in its own transaction, under an
/// advisory lock so that two processes starting together never apply one twice.
public struct Migrator: Sendable {
    public struct Migration: Sendable, Hashable {
        public var version: Int
        public var name: String
        public var sql: String
        public var checksum: String
    }

    /// Arbitrary, fixed: the advisory lock every Docket process takes to migrate.
    static let lockKey: Int64 = 0x646F_636B_6574   // "docket"

    public let migrations: [Migration]

    public init(migrations: [Migration]) { self.migrations = migrations.sorted { $0.version < $1.version } }

    /// Reads `NNNN_name.sql` files from `directory`.
    public init(directory: URL) throws(StoreError) {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw .invalid("cannot read migrations in \(directory.path): \(error.localizedDescription)")
        }
        var found: [Migration] = []
        for name in names.sorted() where name.hasSuffix(".sql") {
            guard let version = Int(name.prefix { $0.isNumber }), name.first?.isNumber == true else {
                throw .invalid("migration file \(name) must start with its number, as in 0001_directory.sql")
            }
            guard let sql = try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8) else {
                throw .invalid("cannot read migration \(name)")
            }
            if found.contains(where: { $0.version == version }) { throw .invalid("two migrations are numbered \(version)") }
            let checksum = SHA256Hex.digest(sql)
            found.append(Migration(version: version, name: String(name.dropLast(4)), sql: sql, checksum: checksum))
        }
        if found.isEmpty { throw .invalid("no migrations found in \(directory.path)") }
        self.init(migrations: found)
    }

    /// Where the shipped `sql/` is: `DOCKET_SQL_DIR`, `./sql`, `<prefix>/share/docket/sql` next to
    /// the executable, or the source checkout this binary was built from.
    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        var candidates: [URL] = []
        if let dir = environment["DOCKET_SQL_DIR"] { return URL(fileURLWithPath: dir) }
        candidates.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("sql"))
        let exe = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        candidates.append(exe.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("share/docket/sql"))
        candidates.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("sql"))
        return candidates.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("0001_directory.sql").path) }
            ?? candidates.last!
    }

    /// Applies every migration not yet applied; returns the versions it applied.
    @discardableResult
    public func migrate(_ client: PostgresClient, logger: Logger) async throws -> [Int] {
        try await client.withConnection { connection in
            try await connection.query("SELECT pg_advisory_lock(\(Self.lockKey))", logger: logger)
            do {
                let applied = try await run(on: connection, logger: logger)
                try await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger)
                return applied
            } catch {
                _ = try? await connection.query("SELECT pg_advisory_unlock(\(Self.lockKey))", logger: logger)
                throw error
            }
        }
    }

    func run(on connection: PostgresConnection, logger: Logger) async throws -> [Int] {
        try await connection.query("""
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version     int PRIMARY KEY,
                name        text NOT NULL,
                checksum    text NOT NULL,
                applied_at  timestamptz NOT NULL DEFAULT now()
            )
            """, logger: logger)
        var done: [Int: String] = [:]
        for try await (version, checksum) in try await connection.query(
            "SELECT version, checksum FROM schema_migrations", logger: logger
        ).decode((Int, String).self) {
            done[version] = checksum
        }
        var applied: [Int] = []
        for migration in migrations {
            if let checksum = done[migration.version] {
                if checksum != migration.checksum {
                    throw StoreError.invalid("migration \(migration.name) was edited after it was applied: released migrations are never edited, add a new one")
                }
                continue
            }
            logger.info("applying migration", metadata: ["docket.migration": "\(migration.name)"])
            do {
                try await connection.query("BEGIN", logger: logger)
                for statement in SQLScript.statements(migration.sql) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("""
                    INSERT INTO schema_migrations (version, name, checksum) VALUES (\(migration.version), \(migration.name), \(migration.checksum))
                    """, logger: logger)
                try await connection.query("COMMIT", logger: logger)
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                let detail = (error as? PSQLError)?.serverInfo?[.message] ?? String(describing: error)
                throw StoreError.invalid("migration \(migration.name) failed: \(detail)")
            }
            applied.append(migration.version)
        }
        if let latest = migrations.last?.version, let newest = done.keys.max(), newest > latest {
            logger.warning("the database has migrations newer than this binary", metadata: ["docket.migration": "\(newest)"])
        }
        return applied
    }
}
