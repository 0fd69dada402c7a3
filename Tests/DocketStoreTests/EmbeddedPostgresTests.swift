import Foundation
import Logging
import Testing
@testable import DocketStore
import DocketCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thread-safe store of log messages, for asserting on what the launcher did.
private final class LogSink: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []
    var messages: [String] { lock.withLock { stored } }
    func append(_ message: String) { lock.withLock { stored.append(message) } }
}

private struct CapturingLogHandler: LogHandler {
    let sink: LogSink
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) { sink.append("\(event.message)") }
}

@Suite("EmbeddedPostgres (real PostgreSQL)", .serialized)
struct EmbeddedPostgresTests {
    static let fastSettings = ["fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"]

    // MARK: helpers

    /// A fresh directory `/tmp/docket-pgtest-XXXXXXXX` (mode 0755).
    func makeTempRoot() throws -> String {
        let path = "/tmp/docket-pgtest-\(UUID().uuidString.prefix(8).lowercased())"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    private func launcher(_ dataDirectory: String, sink: LogSink = LogSink(), environment: [String: String]? = nil) -> EmbeddedPostgres {
        var config = EmbeddedPostgres.Configuration(dataDirectory: dataDirectory, settings: Self.fastSettings)
        if let environment { config.environment = environment }
        return EmbeddedPostgres(configuration: config, logger: Logger(label: "test") { _ in CapturingLogHandler(sink: sink) })
    }

    /// Runs `psql -Atc sql` against `connection` (or a URL) and returns trimmed stdout.
    func psql(_ connection: EmbeddedPostgres.Connection, _ sql: String, viaURL: Bool = false) async throws -> String {
        let binaries = try await PostgresBinaries.locate(environment: ProcessInfo.processInfo.environment)
        let target = viaURL
            ? [connection.url]
            : ["-h", connection.socketDirectory, "-p", "\(connection.port)", "-U", connection.user, "-d", connection.database]
        let output = try await ProcessRunner.run(binaries.psql, ["-X"] + target + ["-Atc", sql])
        return output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Stops whatever cluster lives for each data directory (even if a test failed midway)
    /// and removes the temporary root, relocated cluster and short socket directories.
    func teardown(root: String, dataDirectories: [String], launchers: [EmbeddedPostgres]) async {
        for launcher in launchers { try? await launcher.stop() }
        for dataDirectory in dataDirectories {
            let real = URL(fileURLWithPath: dataDirectory).resolvingSymlinksInPath().path
            let pointer = try? String(contentsOfFile: real + "/postgres.location", encoding: .utf8)
            let cluster = pointer?.trimmingCharacters(in: .whitespacesAndNewlines) ?? real + "/postgres"
            let layout = ClusterLayout(dataDirectory: real, clusterDirectory: cluster)
            if layout.isInitialized,
               let binaries = try? await PostgresBinaries.locate(environment: ProcessInfo.processInfo.environment),
               let runner = try? ClusterCommandRunner(
                   user: geteuid() == 0 ? ClusterUser.owning(layout.pgdata) : nil,
                   environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"]) {
                _ = try? await runner.run(binaries.pgCtl, ["stop", "-D", layout.pgdata, "-m", "immediate"], checkExitCode: false)
            }
            if let socket = layout.readState()?.socketDirectory, socket.hasPrefix("/tmp/docket-pg-") {
                try? FileManager.default.removeItem(atPath: socket)
            }
            if pointer != nil { try? FileManager.default.removeItem(atPath: cluster) }
        }
        try? FileManager.default.removeItem(atPath: root)
    }

    /// Runs `body`, then always tears down.
    func withCleanup(
        root: String, dataDirectories: [String], launchers: [EmbeddedPostgres], _ body: () async throws -> Void
    ) async throws {
        do {
            try await body()
        } catch {
            await teardown(root: root, dataDirectories: dataDirectories, launchers: launchers)
            throw error
        }
        await teardown(root: root, dataDirectories: dataDirectories, launchers: launchers)
    }

    // MARK: tests

    @Test("fresh start connects, start is idempotent, data survives stop/start")
    func startIdempotentAndPersistent() async throws {
        let root = try makeTempRoot()
        let dataDirectory = root + "/.docket"
        let sink = LogSink()
        let pg = launcher(dataDirectory, sink: sink)
        try await withCleanup(root: root, dataDirectories: [dataDirectory], launchers: [pg]) {
            #expect(!pg.startedByThisProcess)
            let connection = try await pg.start()
            #expect(pg.startedByThisProcess)
            #expect(connection.socketDirectory == dataDirectory + "/postgres/socket")
            #expect(LauncherFileInfo(connection.socketDirectory)?.mode == 0o700)
            #expect(connection.user == "docket" && connection.database == "docket" && connection.port == 5432)
            #expect(try await psql(connection, "select 1") == "1")
            #expect(try await psql(connection, "select current_database()", viaURL: true) == "docket")
            #expect(try await psql(connection, "show listen_addresses") == "")
            #expect(try await psql(connection, "show fsync") == "off")

            let again = try await pg.start()
            #expect(again == connection)
            #expect(pg.startedByThisProcess)
            #expect(sink.messages.filter { $0 == "Initializing PostgreSQL cluster" }.count == 1)
            #expect(sink.messages.filter { $0 == "Starting PostgreSQL" }.count == 1)

            _ = try await psql(connection, "create table kept (id int); insert into kept values (42)")
            try await pg.stop()
            #expect(!pg.startedByThisProcess)
            await #expect(throws: ProcessRunnerError.self) { _ = try await psql(connection, "select 1") }

            let restarted = try await pg.start()
            #expect(restarted == connection)
            #expect(try await psql(restarted, "select id from kept") == "42")
            #expect(sink.messages.filter { $0 == "Initializing PostgreSQL cluster" }.count == 1)
        }
    }

    @Test("root: cluster is relocated when the cluster user cannot traverse a parent",
          .enabled(if: geteuid() == 0, "needs root"))
    func relocatesWhenParentIsUntraversable() async throws {
        let root = try makeTempRoot()
        let home = root + "/home"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        #expect(chmod(home, 0o700) == 0)
        let dataDirectory = home + "/project/.docket"
        let sink = LogSink()
        let pg = launcher(dataDirectory, sink: sink)
        try await withCleanup(root: root, dataDirectories: [dataDirectory], launchers: [pg]) {
            let connection = try await pg.start()
            let pointer = dataDirectory + "/postgres.location"
            let cluster = try String(contentsOfFile: pointer, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(cluster == ClusterLayout.relocatedCluster(for: dataDirectory))
            #expect(cluster.hasPrefix("/var/tmp/docket-pg-") && cluster.count == "/var/tmp/docket-pg-".count + 16)
            #expect(!cluster.hasPrefix(home))
            let owner = try ClusterUser.defaultUnprivileged()
            #expect(LauncherFileInfo(cluster)?.uid == owner.uid)
            #expect(LauncherFileInfo(cluster)?.mode == 0o700)
            #expect(LauncherFileInfo(cluster + "/data")?.uid == owner.uid)
            #expect(!FileManager.default.fileExists(atPath: dataDirectory + "/postgres"))
            #expect(connection.socketDirectory == cluster + "/socket")
            #expect(try await psql(connection, "select 1") == "1")
            #expect(sink.messages.contains { $0.hasPrefix("Relocating PostgreSQL cluster") })

            // Another launcher (another process, say) follows the pointer and reuses the server.
            let other = launcher(dataDirectory)
            #expect(try await other.start() == connection)
            #expect(!other.startedByThisProcess)
            try await other.stop()
            #expect(try await psql(connection, "select 1") == "1")
        }
    }

    @Test("long data directory path: socket goes to a short private directory")
    func longPathRelocatesSocket() async throws {
        let root = try makeTempRoot()
        var dataDirectory = root
        while dataDirectory.count < 140 { dataDirectory += "/long-directory-name" }
        dataDirectory += "/.docket"
        #expect(dataDirectory.count >= 150)
        let pg = launcher(dataDirectory)
        try await withCleanup(root: root, dataDirectories: [dataDirectory], launchers: [pg]) {
            let connection = try await pg.start()
            #expect(connection.socketDirectory.hasPrefix("/tmp/docket-pg-"))
            #expect(EmbeddedPostgres.socketPathFits(connection.socketDirectory, port: connection.port))
            #expect(!EmbeddedPostgres.socketPathFits(dataDirectory + "/postgres/socket", port: connection.port))
            #expect(LauncherFileInfo(connection.socketDirectory)?.mode == 0o700)
            if geteuid() == 0 {
                #expect(LauncherFileInfo(connection.socketDirectory)?.uid == (try ClusterUser.defaultUnprivileged()).uid)
            }
            #expect(try await psql(connection, "select 1") == "1")
            let state = ClusterLayout(dataDirectory: dataDirectory, clusterDirectory: dataDirectory + "/postgres").readState()
            #expect(state == ClusterState(port: connection.port, socketDirectory: connection.socketDirectory))

            try await pg.stop()
            let restarted = try await pg.start()
            #expect(restarted.socketDirectory == connection.socketDirectory)
            #expect(try await psql(restarted, "select 1") == "1")
        }
    }

    @Test("DOCKET_PG_BINDIR without PostgreSQL gives a one-line install hint",
          arguments: ["/nonexistent-docket-bindir", "EMPTY"])
    func missingBinaries(bindir: String) async throws {
        let root = try makeTempRoot()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let dir = bindir == "EMPTY" ? root + "/empty-bin" : bindir
        if bindir == "EMPTY" { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        var environment = ProcessInfo.processInfo.environment
        environment["DOCKET_PG_BINDIR"] = dir
        let pg = launcher(root + "/.docket", environment: environment)
        let error = await #expect(throws: EmbeddedPostgresError.self) { _ = try await pg.start() }
        guard case .postgresNotFound(let searched)? = error else {
            Issue.record("expected postgresNotFound, got \(String(describing: error))")
            return
        }
        #expect(searched.count == 1 && searched[0].hasPrefix("DOCKET_PG_BINDIR=\(dir)"))
        let description = String(describing: error!)
        #expect(!description.contains("\n"))
        #expect(description.contains("install"))
        #expect(description.contains(dir))
        #expect(!pg.startedByThisProcess)
    }

    @Test("a server that fails to start reports the tail of server.log")
    func startFailureIncludesLogTail() async throws {
        let root = try makeTempRoot()
        let dataDirectory = root + "/.docket"
        var config = EmbeddedPostgres.Configuration(dataDirectory: dataDirectory, settings: ["shared_buffers": "not-a-size"])
        config.settings["fsync"] = "off"
        let pg = EmbeddedPostgres(configuration: config, logger: Logger(label: "test") { _ in CapturingLogHandler(sink: LogSink()) })
        try await withCleanup(root: root, dataDirectories: [dataDirectory], launchers: [pg]) {
            let error = await #expect(throws: EmbeddedPostgresError.self) { _ = try await pg.start() }
            guard case .startFailed(let command, _, let logTail)? = error else {
                Issue.record("expected startFailed, got \(String(describing: error))")
                return
            }
            #expect(command.contains("pg_ctl") && command.contains("start"))
            #expect(logTail.contains("shared_buffers"))
            #expect(String(describing: error!).contains("last lines of server.log"))
            #expect(!pg.startedByThisProcess)
        }
    }

    @Test("root: commands run as the cluster user via runuser and via the su fallback",
          .enabled(if: geteuid() == 0, "needs root"), arguments: [false, true])
    func privilegeDrop(useSu: Bool) async throws {
        // (runs as root, so a 0700 root-owned directory must be closed to the cluster user)
        let user = try ClusterUser.defaultUnprivileged()
        let runner = try ClusterCommandRunner(user: user, environment: ProcessInfo.processInfo.environment, useSu: useSu)
        let output = try await runner.run("/usr/bin/id", ["-un"])
        #expect(output.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == user.name)
        let quoted = try await runner.run("/bin/echo", ["it's", "a b"])
        #expect(quoted.stdout == "it's a b\n")
        #expect(try await runner.canTraverse("/usr"))
        let blocked = try makeTempRoot()
        defer { try? FileManager.default.removeItem(atPath: blocked) }
        #expect(chmod(blocked, 0o700) == 0)
        #expect(try await !runner.canTraverse(blocked + "/."))
    }

    @Test("two concurrent start() calls share one cluster and run initdb once")
    func concurrentStart() async throws {
        let root = try makeTempRoot()
        let dataDirectory = root + "/.docket"
        let sink = LogSink()
        let first = launcher(dataDirectory, sink: sink)
        let second = launcher(dataDirectory, sink: sink)
        try await withCleanup(root: root, dataDirectories: [dataDirectory], launchers: [first, second]) {
            async let a = first.start()
            async let b = second.start()
            let (connectionA, connectionB) = try await (a, b)
            #expect(connectionA == connectionB)
            #expect([first.startedByThisProcess, second.startedByThisProcess].filter { $0 }.count == 1)
            #expect(sink.messages.filter { $0 == "Initializing PostgreSQL cluster" }.count == 1)
            #expect(sink.messages.filter { $0 == "Starting PostgreSQL" }.count == 1)
            #expect(sink.messages.filter { $0 == "Reusing running PostgreSQL" }.count == 1)
            #expect(try await psql(connectionA, "select 1") == "1")
        }
    }
}

@Suite("EmbeddedPostgres helpers")
struct EmbeddedPostgresHelperTests {
    @Test func connectionURLIsPercentEncoded() {
        let connection = EmbeddedPostgres.Connection(socketDirectory: "/tmp/a b/sock", port: 5433, user: "docket", database: "my db")
        #expect(connection.url == "postgres://docket@/my%20db?host=%2Ftmp%2Fa%20b%2Fsock&port=5433")
    }

    @Test func sha256MatchesKnownVectors() {
        #expect(SHA256Hex.digest("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256Hex.digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256Hex.digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    @Test func processRunnerCapturesOutputAndFailsClearly() async throws {
        let ok = try await ProcessRunner.run("/bin/sh", ["-c", "echo hello; echo warn >&2"])
        #expect(ok.exitCode == 0 && ok.stdout == "hello\n" && ok.stderr == "warn\n")
        let error = await #expect(throws: ProcessRunnerError.self) {
            try await ProcessRunner.run("/bin/sh", ["-c", "echo broken >&2; exit 3"])
        }
        #expect(error?.exitCode == 3)
        #expect(error?.description.contains("/bin/sh -c 'echo broken >&2; exit 3'") == true)
        #expect(error?.description.contains("broken") == true)
    }

    @Test func debianBinDirectoriesSortHighestVersionFirst() throws {
        let root = "/tmp/docket-pgtest-versions-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        for version in ["9.6", "15", "16", "notaversion"] {
            try FileManager.default.createDirectory(atPath: "\(root)/\(version)/bin", withIntermediateDirectories: true)
        }
        #expect(PostgresBinaries.debianBinDirectories(root: root) == ["\(root)/16/bin", "\(root)/15/bin", "\(root)/9.6/bin"])
    }
}
