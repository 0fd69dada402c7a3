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
            With no --database-url (or DOCKET_DATABASE_URL) it starts its own PostgreSQL under
            the data directory and stops it on exit. On first start it creates the user admin
            and writes its token to DATA_DIR/admin.token (mode 0600). Port 0 picks a free port;
            the address is printed on a line of its own: `listening on HOST:PORT`.
            SIGTERM or SIGINT stops accepting, lets running commands finish, then stops.

            Examples: docket serve
                      docket serve --listen 0.0.0.0:7433 --database-url postgres://docket@db/docket
                      docket serve --tls-cert server.pem --tls-key server.key
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: ArgumentHelp("Address to listen on (port 0 picks a free port).", valueName: "host:port"))
    var listen = ProcessInfo.processInfo.environment["DOCKET_LISTEN"] ?? "127.0.0.1:7433"

    @Option(help: ArgumentHelp("Directory of workflow definitions to load at start.", valueName: "dir"))
    var workflows = "Workflows"

    @Option(name: .customLong("tls-cert"), help: ArgumentHelp("PEM certificate chain: serve TLS only.", valueName: "file"))
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: ArgumentHelp("PEM private key for --tls-cert.", valueName: "file"))
    var tlsKey: String?

    @Option(name: .customLong("idle-timeout"), help: ArgumentHelp("Close connections idle this many seconds (0: never).", valueName: "seconds"))
    var idleTimeout = 0

    @Option(name: .customLong("max-connections"), help: "Most connections served at once.")
    var maxConnections = 10_000

    @Option(name: .customLong("db-timeout"), help: ArgumentHelp("Seconds a command waits for PostgreSQL before answering UNAVAILABLE.", valueName: "seconds"))
    var dbTimeout = 10

    @Option(name: .customLong("pool-size"), help: "Most PostgreSQL connections this instance opens.")
    var poolSize = 20

    func run() async throws {
        Logs.bootstrap()
        let logger = Logger(label: "docket")
        var configuration = ServerConfiguration()
        do {
            try configuration.setListen(listen)
        } catch {
            fail(String(describing: error), code: Exit.usage)
        }
        configuration.tlsCertificate = tlsCert
        configuration.tlsKey = tlsKey
        configuration.maxConnections = maxConnections
        if idleTimeout > 0 { configuration.idleTimeout = .seconds(idleTimeout) }
        var location = database.location
        location.maximumConnections = poolSize
        let (workflowsDirectory, dataDirectory, timeout) = (URL(fileURLWithPath: workflows), location.dataDirectory, Duration.seconds(dbTimeout))
        let chosen = configuration

        await reportingErrors {
            let (url, embedded) = try await location.resolve(logger: logger)
            let client = PostgresClient(configuration: url.clientConfiguration(maximumConnections: location.maximumConnections), backgroundLogger: logger)
            let store = Store(client: client, logger: logger, timeout: timeout)
            let docket = DocketService(store: store, configuration: chosen, workflows: workflowsDirectory, dataDirectory: dataDirectory, logger: logger)
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
    let logger: Logger
    private let lock = NSLock()
    private var _failure: (any Error)?
    var failure: (any Error)? { lock.withLock { _failure } }

    init(store: Store, configuration: ServerConfiguration, workflows: URL, dataDirectory: String, logger: Logger) {
        self.store = store
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
        try await Migrator(directory: Migrator.defaultDirectory()).migrate(store.client, logger: logger)
        try await store.loadWorkflows(directory: workflows)
        if let token = try await store.bootstrapAdmin() {
            try AdminToken.write(token, dataDirectory: dataDirectory)
            logger.notice("created user admin; its token is in \(dataDirectory)/admin.token")
        }
        let hub = EventHub(store: store, logger: logger, interval: configuration.sequencerInterval)
        let server = try AdminServer(configuration: configuration, store: store, hub: hub, logger: logger) { address in
            let host = address.ipAddress ?? "127.0.0.1"
            let shown = host.contains(":") ? "[\(host)]" : host
            FileHandle.standardOutput.write(Data("listening on \(shown):\(address.port ?? 0)\n".utf8))
        }
        let scheduler = Scheduler(store: store, clock: SystemClock(), logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await hub.run() }
            group.addTask { await scheduler.run() }
            try await server.run()
            group.cancelAll()
        }
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
