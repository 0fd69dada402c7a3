import ArgumentParser
import DocketStore
import Foundation
import Logging
import PostgresNIO

struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Load a `docket backup` file into an empty database, then verify its audit chain.",
        discussion: """
            Finds the database as `docket serve` does: --database-url or DOCKET_DATABASE_URL, or
            else the embedded cluster under --data-dir (created and started if needed, and
            stopped again). Refuses a database that already holds tables unless --clean, which
            first drops everything in it. pg_restore runs in one transaction: a failed restore
            adds nothing (after --clean the database stays empty). Then every item's SHA-256 chain is recomputed, as
            AUDIT.VERIFY does, and the result printed; exit 65 if a chain does not verify.
            Stop the servers using the database before restoring into it.

            Example: docket restore docket-2026-11-28.dump --data-dir /srv/docket-restored
            Example: docket restore docket.dump --database-url postgres://docket@db/docket --clean
            """
    )

    @Argument(help: ArgumentHelp("A file written by `docket backup` (pg_dump custom format).", valueName: "file"))
    var file: String

    @Flag(name: [.customLong("clean"), .customLong("force")],
          help: "Drop everything in the database before restoring (a database that is not empty is refused otherwise).")
    var clean = false

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        Logs.bootstrap(default: .warning)
        let logger = Logger(label: "docket.restore")
        let path = URL(fileURLWithPath: file).standardizedFileURL.path
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw CLIFailure(.notFound, "cannot read \(file)").report()
        }
        let location = database.location
        let clean = self.clean
        let report = await reportingErrors {
            try await PostgresTools.exitOnCLIFailure {
                try await PostgresTools.withDatabase(location, logger: logger) { url, store in
                    // A Docket backup: pg_restore can read it, and it holds the events table.
                    let listing = try await PostgresTools.run("pg_restore", ["--list", path], url: url, failure: "\(file) is not a pg_dump custom-format file")
                    guard listing.stdout.split(separator: "\n").contains(where: { $0.contains(" TABLE ") && $0.contains(" events ") }) else {
                        throw CLIFailure(.invalid, "\(file) is a PostgreSQL dump but not of a Docket database (it has no events table)")
                    }
                    let tables = try await Self.userRelations(store, url: url, logger: logger)
                    if tables > 0 {
                        guard clean else {
                            throw CLIFailure(.failure, "\(url) is not empty (\(tables) tables, sequences or views)",
                                             hint: "restore into a new database (a new --data-dir), or pass --clean to drop everything in it first")
                        }
                        try await Self.dropEverything(store, url: url, logger: logger)
                    }
                    try await PostgresTools.run("pg_restore", ["--no-owner", "--no-acl", "--exit-on-error", "--single-transaction",
                                                               "--dbname", url.database, path],
                                                url: url, failure: "restore of \(file) into \(url) failed")
                    let audit = try await store.verify()
                    return (url, audit)
                }
            }
        }
        let (url, audit) = report
        Terminal.write("restored \(file) into \(url): \(audit.items) items, \(audit.events) events\n")
        if audit.ok {
            Terminal.write("audit chain verifies: every item's SHA-256 chain recomputed, none altered\n")
        } else {
            Terminal.write("audit chain DOES NOT verify: \(audit.firstBad.map { "\($0.item) v\($0.version): \($0.reason)" } ?? "a chain is broken")\n")
            throw ExitCode(Exit.invalid)
        }
    }

    /// Tables, sequences, views and foreign tables outside PostgreSQL's own schemas.
    static func userRelations(_ store: Store, url: DatabaseURL, logger: Logger) async throws -> Int {
        try await PostgresTools.withConnection(store, url: url) { connection in
            let rows = try await connection.query("""
                SELECT count(*)::bigint FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
                  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
                """, logger: logger)
            var n: Int64 = 0
            for try await c in rows.decode(Int64.self) { n = c }
            return Int(n)
        }
    }

    /// Drops every schema but PostgreSQL's own, and recreates an empty `public` as a new
    /// database has it.
    static func dropEverything(_ store: Store, url: DatabaseURL, logger: Logger) async throws {
        try await PostgresTools.withConnection(store, url: url, limit: .seconds(120)) { connection in
            let rows = try await connection.query("""
                SELECT nspname FROM pg_namespace
                WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\\_%'
                """, logger: logger)
            var schemas: [String] = []
            for try await name in rows.decode(String.self) { schemas.append(name) }
            try await connection.query("BEGIN", logger: logger)
            do {
                for schema in schemas {
                    let quoted = "\"" + schema.replacingOccurrences(of: "\"", with: "\"\"") + "\""
                    try await connection.query("DROP SCHEMA \(unescaped: quoted) CASCADE", logger: logger)
                }
                try await connection.query("CREATE SCHEMA public AUTHORIZATION pg_database_owner", logger: logger)
                try await connection.query("GRANT USAGE ON SCHEMA public TO PUBLIC", logger: logger)
                try await connection.query("COMMIT", logger: logger)
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }
}
