import ArgumentParser
import DocketServer
import DocketStore
import Foundation
import Logging
import NIOCore
import PostgresNIO
import ServiceLifecycle

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run Docket: migrate the database, load the workflows, serve the admin protocol.",
        discussion: """
            With no --database-url (or DOCKET_DATABASE_URL) it starts its own PostgreSQL under the data directory and stops it on exit. On first start it creates the user admin and writes its token to DATA_DIR/admin.token (mode 0600). Port 0 picks a free port; the address is printed on a line of its own: `listening on HOST:PORT`.

            SIGTERM or SIGINT stops accepting, answers what each connection sent, then stops; SIGHUP reloads the TLS certificate.

            Each setting comes from its flag, else its DOCKET_* variable, else the --config file, else the default; --print-config shows which.

            Examples:
              docket serve
              docket serve --listen 0.0.0.0:7433 --database-url postgres://docket@db/docket
              docket serve --tls-cert server.pem --tls-key server.key
              docket serve --config /etc/docket/docket.yaml --metrics-listen 127.0.0.1:9433
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: ArgumentHelp("YAML file of settings (env DOCKET_CONFIG); flags and environment override it.", valueName: "file"))
    var config: String?

    @Flag(name: .customLong("print-config"), help: "Print each setting, its value and where it came from, then exit.")
    var printConfig = false

    @Option(help: ArgumentHelp("Address to listen on (port 0 picks a free port; default 127.0.0.1:7433).", valueName: "host:port"))
    var listen: String?

    @Option(help: ArgumentHelp("Directory of workflow definitions to load at start (default Workflows).", valueName: "dir"))
    var workflows: String?

    @Option(name: .customLong("tls-cert"), help: ArgumentHelp("PEM certificate chain: serve TLS only. SIGHUP reloads it.", valueName: "file"))
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: ArgumentHelp("PEM private key for --tls-cert.", valueName: "file"))
    var tlsKey: String?

    @Option(name: .customLong("idle-timeout"), help: ArgumentHelp("Close connections idle this many seconds (default 0: never).", valueName: "seconds"))
    var idleTimeout: String?

    @Option(name: .customLong("max-connections"), help: "Most connections served at once (default 10000).")
    var maxConnections: String?

    @Option(name: .customLong("db-timeout"), help: ArgumentHelp("Seconds a command waits for PostgreSQL before answering UNAVAILABLE (default 10).", valueName: "seconds"))
    var dbTimeout: String?

    @Option(name: .customLong("pool-size"), help: "PostgreSQL connections for commands, split between the event loops (default 20); the shared pool for background work opens up to as many.")
    var poolSize: String?

    @Option(name: .customLong("metrics-listen"), help: ArgumentHelp("HTTP address for Prometheus /metrics and /health/live, /health/ready (default off).", valueName: "host:port"))
    var metricsListen: String?

    @Option(name: .customLong("log-level"), help: ArgumentHelp("trace, debug, info, notice, warning, error or critical (default info).", valueName: "level"))
    var logLevel: String?

    @Option(name: .customLong("log-format"), help: ArgumentHelp("logfmt, json or text (default logfmt).", valueName: "format"))
    var logFormat: String?

    /// The flags given on the command line, by setting name.
    var givenFlags: [String: String] {
        let pairs: [(String, String?)] = [
            ("listen", listen), ("database-url", database.databaseURL), ("data-dir", database.dataDirectoryFlag), ("workflows", workflows),
            ("tls-cert", tlsCert), ("tls-key", tlsKey), ("idle-timeout", idleTimeout), ("max-connections", maxConnections),
            ("db-timeout", dbTimeout), ("pool-size", poolSize), ("metrics-listen", metricsListen), ("log-level", logLevel), ("log-format", logFormat),
        ]
        return Dictionary(uniqueKeysWithValues: pairs.compactMap { key, value in value.map { (key, $0) } })
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let settings: ServeSettings
        let configuration: ServerConfiguration
        let metricsAddress: (host: String, port: Int)?
        let timeout: Duration
        let (level, format): (Logger.Level, Logs.Format)
        do {
            settings = try ServeSettings(flags: givenFlags, environment: environment,
                                         configFile: config ?? environment["DOCKET_CONFIG"].flatMap { $0.isEmpty ? nil : $0 })
            guard let l = settings["log-level"].flatMap(Logger.Level.init(rawValue:)) else {
                throw ConfigError("log-level must be one of trace, debug, info, notice, warning, error, critical")
            }
            guard let f = settings["log-format"].flatMap(Logs.Format.init(rawValue:)) else {
                throw ConfigError("log-format must be logfmt, json or text")
            }
            (level, format) = (l, f)
            var c = ServerConfiguration()
            try c.setListen(settings["listen"] ?? "127.0.0.1:7433")
            c.tlsCertificate = settings["tls-cert"]
            c.tlsKey = settings["tls-key"]
            c.maxConnections = try settings.integer("max-connections", atLeast: 1)
            let idle = try settings.integer("idle-timeout")
            if idle > 0 { c.idleTimeout = .seconds(idle) }
            c.poolSize = try settings.integer("pool-size", atLeast: 1)
            timeout = .seconds(try settings.integer("db-timeout", atLeast: 1))
            configuration = c
            if let text = settings["metrics-listen"] {
                var m = ServerConfiguration()
                try m.setListen(text)
                metricsAddress = (m.host, m.port)
            } else {
                metricsAddress = nil
            }
        } catch {
            fail(String(describing: error), code: Exit.usage)
        }
        if printConfig {
            print(settings.report)
            return
        }
        Logs.bootstrap(level: level, format: format)
        let logger = Logger(label: "docket")
        let location = DatabaseLocation(url: settings["database-url"], dataDirectory: settings["data-dir"] ?? ".docket",
                                        maximumConnections: configuration.poolSize)
        let workflowsDirectory = URL(fileURLWithPath: settings["workflows"] ?? "Workflows")
        let dataDirectory = location.dataDirectory
        let chosen = configuration

        await reportingErrors {
            let (url, embedded) = try await location.resolve(logger: logger)
            let client = PostgresClient(configuration: url.clientConfiguration(maximumConnections: location.maximumConnections), backgroundLogger: logger)
            let loopConfiguration = try url.connectionConfiguration()
            let store = Store(client: client, logger: logger, timeout: timeout, loopReads: loopConfiguration,
                              loopConnections: (loopConfiguration, LoopPools.perLoop(poolSize: location.maximumConnections)))
            let docket = DocketService(store: store, configuration: chosen, workflows: workflowsDirectory, dataDirectory: dataDirectory,
                                       metricsAddress: metricsAddress, logger: logger)
            let group = ServiceGroup(configuration: .init(
                services: [.init(service: client), .init(service: docket, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger))
            do {
                try await group.run()
            } catch {
                try? await embedded?.stop()
                throw error
            }
            if let failure = docket.failure { try? await embedded?.stop(); throw failure }
            try await embedded?.stop()
        }
    }
}

/// Migrates, loads workflows, creates the first admin, then runs the event hub and the
/// admin server until shutdown.
final class DocketService: Service, @unchecked Sendable {
    let store: Store
    let configuration: ServerConfiguration
    let workflows: URL
    let dataDirectory: String
    let metricsAddress: (host: String, port: Int)?
    let logger: Logger
    private let lock = NSLock()
    private var _failure: (any Error)?
    var failure: (any Error)? { lock.withLock { _failure } }

    init(store: Store, configuration: ServerConfiguration, workflows: URL, dataDirectory: String,
         metricsAddress: (host: String, port: Int)?, logger: Logger) {
        self.store = store
        self.metricsAddress = metricsAddress
        self.configuration = configuration
        self.workflows = workflows
        self.dataDirectory = dataDirectory
        self.logger = logger
    }

    func run() async throws {
        do {
            try await start()
        } catch {
            lock.withLock { _failure = error }
            throw error
        }
    }

    func start() async throws {
        try await waitForDatabase()
        try await Migrator(directory: Migrator.defaultDirectory()).migrate(store.client, logger: logger)
        try await store.loadWorkflows(directory: workflows)
        if let token = try await store.bootstrapAdmin() {
            try AdminToken.write(token, dataDirectory: dataDirectory)
            logger.notice("created user admin; its token is in \(dataDirectory)/admin.token")
        }
        let hub = EventHub(store: store, logger: logger, interval: configuration.sequencerInterval)
        let metrics = ServerMetrics()
        let server = try AdminServer(configuration: configuration, store: store, hub: hub, metrics: metrics, logger: logger) { address in
            Self.announce("listening on", address)
        }
        let scheduler = Scheduler(store: store, clock: SystemClock(), logger: logger) { metrics.timersFired($0) }
        let reload = Self.reloadingTLS(on: SIGHUP, server: server, logger: logger)
        defer { reload?.cancel() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await hub.run() }
            group.addTask { await scheduler.run() }
            if let (host, port) = metricsAddress {
                let endpoint = MetricsServer(host: host, port: port, server: server, logger: logger) { Self.announce("metrics on", $0) }
                group.addTask { try await endpoint.run() }
            }
            try await server.run()
            group.cancelAll()
        }
    }

    /// PostgreSQL may still be starting (compose, a reboot): try for three `--db-timeout`s
    /// (30 s by default), then give up with one line (exit 69) rather than wait forever.
    func waitForDatabase() async throws {
        let deadline = ContinuousClock.now + store.timeout * 3
        while true {
            do {
                try await store.ping()
                return
            } catch let error as StoreError {
                guard case .unavailable = error, ContinuousClock.now < deadline else { throw error }
                logger.warning("waiting for PostgreSQL", metadata: ["docket.error": "\(error)"])
                try await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Prints `<what> HOST:PORT` on stdout, a line of its own, for scripts and tests.
    static func announce(_ what: String, _ address: SocketAddress) {
        let host = address.ipAddress ?? "127.0.0.1"
        let shown = host.contains(":") ? "[\(host)]" : host
        FileHandle.standardOutput.write(Data("\(what) \(shown):\(address.port ?? 0)\n".utf8))
    }

    /// On SIGHUP, reads the TLS certificate and key again (when TLS is on).
    static func reloadingTLS(on signalNumber: Int32, server: AdminServer, logger: Logger) -> (any DispatchSourceSignal)? {
        signal(signalNumber, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
        source.setEventHandler {
            do {
                try server.reloadTLS()
            } catch {
                logger.error("SIGHUP: TLS certificate not reloaded: \(error)")
            }
        }
        source.resume()
        return source
    }
}

enum AdminToken {
    /// Writes the admin token with mode 0600.
    static func write(_ token: String, dataDirectory: String) throws {
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let path = "\(dataDirectory)/admin.token"
        _ = FileManager.default.createFile(atPath: path, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600])
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
    }
}
