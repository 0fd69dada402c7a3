import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Launches a private PostgreSQL cluster inside Docket's data directory.
///
/// The cluster listens only on a Unix socket in its own private directory, uses
/// `trust` authentication and is created on first use with `initdb`. When the process
/// runs as root, the cluster runs as `postgres` (or `nobody`). ``start()`` is
/// idempotent and safe to call concurrently from several tasks or processes; ``stop()``
/// only stops a server that this instance started.
///
/// ```swift
/// let pg = EmbeddedPostgres(configuration: .init(dataDirectory: ".docket"), logger: logger)
/// let connection = try await pg.start()
/// print(connection.url) // postgres://docket@/docket?host=%2F…&port=5432
/// try await pg.stop()
/// ```
public struct EmbeddedPostgres: Sendable {
    /// How to find PostgreSQL and how to set up the cluster.
    public struct Configuration: Sendable {
        /// Docket's data directory. The cluster lives in `<dataDirectory>/postgres`,
        /// unless `<dataDirectory>/postgres.location` points elsewhere.
        public var dataDirectory: String
        /// Environment used to find the binaries (`PATH`, `DOCKET_PG_BINDIR`) and passed
        /// to the PostgreSQL programs (minus `PG*` variables).
        public var environment: [String: String]
        /// Extra `postgresql.conf` settings, e.g. `["fsync": "off"]`.
        public var settings: [String: String]
        /// The database to create if missing.
        public var database: String
        /// The superuser created by `initdb` and used to connect.
        public var user: String
        /// The port; it only names the socket file since no TCP listener is opened.
        public var port: Int

        /// Creates a configuration; every parameter has a sensible default.
        public init(
            dataDirectory: String = ".docket",
            environment: [String: String] = ProcessInfo.processInfo.environment,
            settings: [String: String] = [:],
            database: String = "docket",
            user: String = "docket",
            port: Int = 5432
        ) {
            self.dataDirectory = dataDirectory
            self.environment = environment
            self.settings = settings
            self.database = database
            self.user = user
            self.port = port
        }
    }

    /// Where a running embedded cluster accepts connections.
    public struct Connection: Sendable, Hashable {
        /// The directory holding the `.s.PGSQL.<port>` socket.
        public let socketDirectory: String
        /// The port number in the socket file name.
        public let port: Int
        /// The user to connect as.
        public let user: String
        /// The database to connect to.
        public let database: String

        /// Creates a connection description.
        public init(socketDirectory: String, port: Int, user: String, database: String) {
            self.socketDirectory = socketDirectory
            self.port = port
            self.user = user
            self.database = database
        }

        /// A libpq URL: `postgres://<user>@/<database>?host=<socket dir>&port=<port>`,
        /// each part percent-encoded.
        public var url: String {
            var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)...Unicode.Scalar(127)))
            allowed.insert(charactersIn: "-._~")
            func encode(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s }
            return "postgres://\(encode(user))@/\(encode(database))?host=\(encode(socketDirectory))&port=\(port)"
        }
    }

    /// The configuration this launcher was created with.
    public let configuration: Configuration
    let logger: Logger
    private let state = LauncherState()

    /// Creates a launcher. Nothing happens until ``start()``.
    public init(configuration: Configuration = Configuration(), logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// `true` while a server that this instance started (and has not stopped) is running.
    /// A cluster that was already running when ``start()`` was called is reused and
    /// leaves this `false`.
    public var startedByThisProcess: Bool { state.current != nil }

    /// Makes sure the cluster exists, is running and has the configured database.
    ///
    /// Initializes the cluster if needed, starts it unless it is already running and
    /// creates ``Configuration/database`` if missing, all under an exclusive lock on
    /// `<dataDirectory>/launcher.lock`. Calling it again returns the same connection.
    /// - Throws: ``EmbeddedPostgresError`` or ``ProcessRunnerError``.
    public func start() async throws -> Connection {
        try validate()
        let binaries = try await PostgresBinaries.locate(environment: configuration.environment)
        let dataDirectory = try absoluteDataDirectory()
        return try await LauncherLock.withLock(path: dataDirectory + "/launcher.lock") {
            let (layout, runner) = try await resolveLayout(dataDirectory: dataDirectory)
            try LauncherFileInfo.ensurePrivateDirectory(layout.clusterDirectory, owner: runner.user, adopt: true)
            let clusterState: ClusterState
            if try await isRunning(layout, binaries: binaries, runner: runner) {
                guard let running = layout.runningState() ?? layout.readState() else {
                    throw EmbeddedPostgresError.connectionInfoUnavailable(clusterDirectory: layout.clusterDirectory)
                }
                logger.info("Reusing running PostgreSQL", metadata: ["cluster": "\(layout.clusterDirectory)"])
                clusterState = running
            } else {
                if !layout.isInitialized {
                    try await initialize(layout, binaries: binaries, runner: runner)
                }
                let socketDirectory = try prepareSocketDirectory(layout, owner: runner.user)
                clusterState = ClusterState(port: configuration.port, socketDirectory: socketDirectory)
                try writeServerConfiguration(layout, state: clusterState, owner: runner.user)
                try layout.writeState(clusterState, owner: runner.user)
                try await startServer(layout, binaries: binaries, runner: runner)
                state.current = StartedCluster(layout: layout, binaries: binaries, runner: runner)
            }
            let connection = Connection(
                socketDirectory: clusterState.socketDirectory, port: clusterState.port,
                user: configuration.user, database: configuration.database)
            try await ensureDatabase(connection, binaries: binaries, runner: runner)
            return connection
        }
    }

    /// Stops the server with `pg_ctl stop -m fast`, but only if this instance started it;
    /// otherwise does nothing.
    public func stop() async throws {
        guard let started = state.current else {
            logger.debug("Not stopping PostgreSQL: this instance did not start it")
            return
        }
        let layout = started.layout
        try await LauncherLock.withLock(path: layout.lockFile) {
            logger.info("Stopping PostgreSQL", metadata: ["cluster": "\(layout.clusterDirectory)"])
            let output = try await started.runner.run(
                started.binaries.pgCtl, ["stop", "-D", layout.pgdata, "-m", "fast", "-w", "-t", "60"], checkExitCode: false)
            if output.exitCode != 0,
               try await isRunning(layout, binaries: started.binaries, runner: started.runner) {
                throw ProcessRunnerError(
                    command: output.command, exitCode: output.exitCode, stdout: output.stdout, stderr: output.stderr)
            }
            state.current = nil
        }
    }

    private func validate() throws {
        guard !configuration.database.isEmpty, !configuration.user.isEmpty else {
            throw EmbeddedPostgresError.invalidConfiguration("database and user must not be empty")
        }
        guard (1...65535).contains(configuration.port) else {
            throw EmbeddedPostgresError.invalidConfiguration("port \(configuration.port) is out of range")
        }
        for key in configuration.settings.keys where key.isEmpty || !key.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == ".") }) {
            throw EmbeddedPostgresError.invalidConfiguration("setting name '\(key)' is not a valid PostgreSQL parameter name")
        }
    }

    /// The data directory as an absolute, symlink-free path (created if missing).
    private func absoluteDataDirectory() throws -> String {
        let url = URL(fileURLWithPath: configuration.dataDirectory)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url.resolvingSymlinksInPath().standardizedFileURL.path
    }

    /// The configured environment minus `PG*` variables (which would redirect the
    /// PostgreSQL tools), with `LC_ALL=C` so messages are predictable.
    var childEnvironment: [String: String] {
        var environment = configuration.environment.filter { !$0.key.hasPrefix("PG") }
        environment["LC_ALL"] = "C"
        if environment["PATH"] == nil { environment["PATH"] = "/usr/local/bin:/usr/bin:/bin" }
        return environment
    }
}

/// What ``EmbeddedPostgres/stop()`` needs to stop the server this instance started.
struct StartedCluster: Sendable {
    let layout: ClusterLayout
    let binaries: PostgresBinaries
    let runner: ClusterCommandRunner
}

/// Mutable state shared by copies of one ``EmbeddedPostgres`` value.
final class LauncherState: @unchecked Sendable {
    private let lock = NSLock()
    private var _current: StartedCluster?

    var current: StartedCluster? {
        get { lock.withLock { _current } }
        set { lock.withLock { _current = newValue } }
    }
}
