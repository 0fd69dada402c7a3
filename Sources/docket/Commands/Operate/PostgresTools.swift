import DocketStore
import Foundation
import Logging
import PostgresNIO

/// What `docket backup` and `docket restore` share: finding the database like `docket serve`
/// does, and running PostgreSQL's own client programs against it.
enum PostgresTools {
    /// Resolves `location` (starting the embedded cluster under the data directory when no URL
    /// is configured), runs `body` with its URL and a store, then stops the cluster if this
    /// call started it. Store operations may take `timeout` (verifying a large chain takes a while).
    static func withDatabase<T: Sendable>(_ location: DatabaseLocation, logger: Logger, timeout: Duration = .seconds(3600),
                                          _ body: @Sendable (DatabaseURL, Store) async throws -> T) async throws -> T {
        let (url, embedded) = try await location.resolve(logger: logger)
        do {
            let result = try await DatabaseLocation.withClient(url: url, maximumConnections: 2, logger: logger) { client in
                try await body(url, Store(client: client, logger: logger, timeout: timeout))
            }
            try await embedded?.stop()
            return result
        } catch {
            try? await embedded?.stop()
            throw error
        }
    }

    /// The environment for `pg_dump`/`pg_restore`: ours without any `PG*` variable, plus the
    /// connection as libpq variables (so no password shows in `ps`).
    static func environment(for url: DatabaseURL) -> [String: String] {
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PG") }
        env["PGHOST"] = url.socketDirectory ?? url.host
        env["PGPORT"] = String(url.port)
        env["PGUSER"] = url.user
        env["PGDATABASE"] = url.database
        if let password = url.password { env["PGPASSWORD"] = password }
        if url.socketDirectory == nil { env["PGSSLMODE"] = url.sslMode }
        env["PGCONNECT_TIMEOUT"] = "10"
        env["LC_ALL"] = "C"
        return env
    }

    /// Runs a PostgreSQL client program; a non-zero exit becomes a one-line `CLIFailure`
    /// carrying the end of its stderr.
    @discardableResult
    static func run(_ program: String, _ arguments: [String], url: DatabaseURL, failure: String) async throws -> ProcessOutput {
        let path: String
        do {
            path = try await EmbeddedPostgres.clientProgram(program)
        } catch {
            throw CLIFailure(.unavailable, "\(program) not found", hint: "install the PostgreSQL client programs (Debian/Ubuntu: apt-get install postgresql-client) or set DOCKET_PG_BINDIR")
        }
        let output = try await ProcessRunner.run(path, arguments, environment: environment(for: url), checkExitCode: false)
        guard output.exitCode == 0 else {
            let lines = output.stderr.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
            let why = lines.suffix(3).joined(separator: "; ")
            let unreachable = why.contains("could not connect") || why.contains("Connection refused") || why.contains("No such file or directory")
            throw CLIFailure(unreachable ? .unavailable : .failure, "\(failure): \(program) exited with \(output.exitCode)\(why.isEmpty ? "" : ": " + why)")
        }
        return output
    }

    /// Runs `body` on a pooled connection, giving up after `limit`: a pool whose database
    /// cannot be reached waits for a connection forever.
    static func withConnection<T: Sendable>(_ store: Store, url: DatabaseURL, limit: Duration = .seconds(15),
                                            _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let client = store.client
        do {
            return try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask { try await client.withConnection(body) }
                group.addTask {
                    try await Task.sleep(for: limit)
                    return nil
                }
                defer { group.cancelAll() }
                guard let result = try await group.next() ?? nil else {
                    throw CLIFailure(.unavailable, "PostgreSQL at \(url) does not answer within \(limit)",
                                     hint: "check --database-url (or DOCKET_DATABASE_URL) and that PostgreSQL runs")
                }
                return result
            }
        } catch let error as PSQLError {
            throw CLIFailure(.unavailable, "PostgreSQL at \(url): \(String(reflecting: error))")
        }
    }

    /// Items and events in the database (nil where the table does not exist).
    static func counts(_ store: Store, url: DatabaseURL, logger: Logger) async throws -> (items: Int?, events: Int?) {
        try await withConnection(store, url: url) { connection in
            var out: [Int?] = []
            for table in ["items", "events"] {
                let rows = try await connection.query("SELECT to_regclass(\(table)) IS NOT NULL", logger: logger)
                var exists = false
                for try await flag in rows.decode(Bool.self) { exists = flag }
                guard exists else { out.append(nil); continue }
                let count = try await connection.query("SELECT count(*)::bigint FROM \(unescaped: table)", logger: logger)
                var n = 0
                for try await c in count.decode(Int64.self) { n = Int(c) }
                out.append(n)
            }
            return (out[0], out[1])
        }
    }

    /// Reports a `CLIFailure` (one line on stderr, its exit code); other errors go on to the
    /// caller (`reportingErrors` turns store errors into their exit codes).
    static func exitOnCLIFailure<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let failure as CLIFailure {
            Terminal.writeError("docket: \(failure.description)\n")
            exit(failure.kind.exitCode)
        }
    }

    /// `12 KiB`, `3.4 MiB`.
    static func size(_ bytes: Int) -> String {
        if bytes < 1024 { return "\(bytes) B" }
        if bytes < 1024 * 1024 { return "\(bytes / 1024) KiB" }
        return String(format: "%.1f MiB", Double(bytes) / 1_048_576)
    }
}
