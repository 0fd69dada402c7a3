import Foundation
import Logging

/// The PostgreSQL steps: initdb, server configuration, pg_ctl, and creating the database.
extension EmbeddedPostgres {
    /// Name of the include file (inside `PGDATA`) that holds the launcher's settings.
    static let includeFileName = "docket.conf"

    /// `pg_ctl status`: exit 0 means a postmaster is running for `PGDATA`.
    func isRunning(_ layout: ClusterLayout, binaries: PostgresBinaries, runner: ClusterCommandRunner) async throws -> Bool {
        guard layout.isInitialized else { return false }
        let output = try await runner.run(binaries.pgCtl, ["status", "-D", layout.pgdata], checkExitCode: false)
        return output.exitCode == 0
    }

    /// Runs `initdb` (trust auth, UTF8, C locale) and hooks `docket.conf` into `postgresql.conf`.
    func initialize(_ layout: ClusterLayout, binaries: PostgresBinaries, runner: ClusterCommandRunner) async throws {
        let fm = FileManager.default
        if let leftovers = try? fm.contentsOfDirectory(atPath: layout.pgdata), !leftovers.isEmpty {
            logger.warning("Removing an incomplete PostgreSQL data directory (no PG_VERSION)", metadata: ["pgdata": "\(layout.pgdata)"])
            try fm.removeItem(atPath: layout.pgdata)
        }
        logger.info(
            "Initializing PostgreSQL cluster",
            metadata: ["pgdata": "\(layout.pgdata)", "runAs": "\(runner.user?.name ?? "current user")", "bindir": "\(binaries.directory)"])
        var arguments = ["-D", layout.pgdata, "-U", configuration.user, "--auth=trust", "-E", "UTF8", "--locale=C"]
        if configuration.settings["fsync"]?.lowercased() == "off" { arguments.append("--no-sync") }
        try await runner.run(binaries.initdb, arguments)

        let include = "\ninclude_if_exists = '\(Self.includeFileName)'\t# Docket embedded launcher settings\n"
        let confPath = layout.pgdata + "/postgresql.conf"
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: confPath))
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(include.utf8))
    }

    /// Rewrites `PGDATA/docket.conf`: Unix socket only, in `state.socketDirectory`, plus
    /// ``Configuration/settings``.
    func writeServerConfiguration(_ layout: ClusterLayout, state: ClusterState, owner: ClusterUser?) throws {
        func quote(_ value: String) -> String { "'" + value.replacingOccurrences(of: "'", with: "''") + "'" }
        var lines = [
            "# Written by Docket's embedded PostgreSQL launcher on every start; edits are overwritten.",
            "listen_addresses = ''",
            "port = \(state.port)",
            "unix_socket_directories = \(quote(state.socketDirectory))",
            "unix_socket_permissions = 0700",
        ]
        for key in configuration.settings.keys.sorted() {
            lines.append("\(key) = \(quote(configuration.settings[key]!))")
        }
        try LauncherFileInfo.write(lines.joined(separator: "\n") + "\n", to: layout.pgdata + "/" + Self.includeFileName, owner: owner)
    }

    /// `pg_ctl start -w -t 60 -l <cluster>/server.log`; on failure the error carries the
    /// tail of `server.log`.
    func startServer(_ layout: ClusterLayout, binaries: PostgresBinaries, runner: ClusterCommandRunner) async throws {
        logger.info("Starting PostgreSQL", metadata: ["pgdata": "\(layout.pgdata)", "log": "\(layout.logFile)"])
        let arguments = ["start", "-D", layout.pgdata, "-w", "-t", "60", "-l", layout.logFile]
        let output = try await runner.run(binaries.pgCtl, arguments, checkExitCode: false)
        guard output.exitCode == 0 else {
            throw EmbeddedPostgresError.startFailed(
                command: ProcessRunner.render(output.command),
                output: output.stderr.isEmpty ? output.stdout : output.stderr,
                logTail: layout.logTail())
        }
    }

    /// Creates ``Configuration/database`` through `psql` unless it already exists.
    func ensureDatabase(_ connection: Connection, binaries: PostgresBinaries, runner: ClusterCommandRunner) async throws {
        let base = ["-X", "-v", "ON_ERROR_STOP=1", "-h", connection.socketDirectory, "-p", "\(connection.port)",
                    "-U", connection.user, "-d", "postgres", "-At", "-c"]
        let literal = "'" + connection.database.replacingOccurrences(of: "'", with: "''") + "'"
        let exists = try await ProcessRunner.run(
            binaries.psql, base + ["SELECT 1 FROM pg_database WHERE datname = \(literal)"], environment: childEnvironment)
        if exists.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1" { return }

        let identifier = "\"" + connection.database.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        logger.info("Creating database", metadata: ["database": "\(connection.database)"])
        let created = try await ProcessRunner.run(
            binaries.psql, base + ["CREATE DATABASE \(identifier)"], environment: childEnvironment, checkExitCode: false)
        if created.exitCode != 0 && !created.stderr.contains("already exists") {
            throw ProcessRunnerError(
                command: created.command, exitCode: created.exitCode, stdout: created.stdout, stderr: created.stderr)
        }
    }
}
