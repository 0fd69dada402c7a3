import DocketCore
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the pieces of one cluster live.
///
/// ```
/// <cluster>/data        PGDATA (initdb target)
/// <cluster>/socket      Unix socket directory (unless relocated to /tmp/docket-pg-XXXXXX)
/// <cluster>/server.log  pg_ctl -l log file
/// <cluster>/state.json  port and socket directory, for other processes
/// ```
/// `<cluster>` is `<dataDirectory>/postgres`, or the path in `<dataDirectory>/postgres.location`.
struct ClusterLayout: Sendable, Equatable {
    let dataDirectory: String
    let clusterDirectory: String
    var pgdata: String { clusterDirectory + "/data" }
    var logFile: String { clusterDirectory + "/server.log" }
    var stateFile: String { clusterDirectory + "/state.json" }
    var preferredSocketDirectory: String { clusterDirectory + "/socket" }
    var lockFile: String { dataDirectory + "/launcher.lock" }
    var pointerFile: String { dataDirectory + "/postgres.location" }
    var isInitialized: Bool { FileManager.default.fileExists(atPath: pgdata + "/PG_VERSION") }

    static func pointerFile(in dataDirectory: String) -> String { dataDirectory + "/postgres.location" }
    static func defaultCluster(in dataDirectory: String) -> String { dataDirectory + "/postgres" }

    /// Directory used when the cluster user cannot reach `dataDirectory`.
    static func relocatedCluster(for dataDirectory: String) -> String {
        var isDir: ObjCBool = false
        let base = FileManager.default.fileExists(atPath: "/var/tmp", isDirectory: &isDir) && isDir.boolValue ? "/var/tmp" : "/tmp"
        return "\(base)/docket-pg-\(SHA256Hex.digest(dataDirectory).prefix(16))"
    }
}

/// What `state.json` records so other processes can find a running cluster.
struct ClusterState: Codable, Sendable, Equatable {
    var port: Int
    var socketDirectory: String
}

extension ClusterLayout {
    func readState() -> ClusterState? {
        guard let data = FileManager.default.contents(atPath: stateFile) else { return nil }
        return try? JSONDecoder().decode(ClusterState.self, from: data)
    }

    func writeState(_ state: ClusterState, owner: ClusterUser?) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json = String(decoding: try encoder.encode(state), as: UTF8.self) + "\n"
        try LauncherFileInfo.write(json, to: stateFile, owner: owner, mode: 0o644)
    }

    /// Port and socket directory of the running postmaster, from `postmaster.pid`
    /// (line 4 is the port, line 5 the first socket directory).
    func runningState() -> ClusterState? {
        guard let text = try? String(contentsOfFile: pgdata + "/postmaster.pid", encoding: .utf8) else { return nil }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard lines.count >= 5, let port = Int(lines[3].trimmingCharacters(in: .whitespaces)) else { return nil }
        let socket = lines[4].trimmingCharacters(in: .whitespaces)
        return socket.isEmpty ? nil : ClusterState(port: port, socketDirectory: socket)
    }

    /// The last `count` lines of `server.log`.
    func logTail(_ count: Int = 30) -> String {
        guard let text = try? String(contentsOfFile: logFile, encoding: .utf8) else { return "" }
        return text.split(separator: "\n").suffix(count).joined(separator: "\n")
    }
}

extension EmbeddedPostgres {
    /// Whether a socket for `port` in `directory` fits in `sockaddr_un.sun_path`.
    static func socketPathFits(_ directory: String, port: Int) -> Bool {
        "\(directory)/.s.PGSQL.\(port)".utf8.count <= LauncherFileInfo.maxSocketPathLength
    }

    /// Decides where the cluster lives and which user runs it (see rule: relocate when
    /// root's cluster user cannot traverse the data directory).
    func resolveLayout(dataDirectory: String) async throws -> (ClusterLayout, ClusterCommandRunner) {
        let pointer = ClusterLayout.pointerFile(in: dataDirectory)
        var cluster = ClusterLayout.defaultCluster(in: dataDirectory)
        var fromPointer = false
        if let text = try? String(contentsOfFile: pointer, encoding: .utf8) {
            let path = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard path.hasPrefix("/") else {
                throw EmbeddedPostgresError.unsafeDirectory(path: pointer, reason: "it does not hold an absolute path")
            }
            cluster = path
            fromPointer = true
        }

        var user: ClusterUser?
        if geteuid() == 0 {
            user = try ClusterUser.owning(cluster + "/data") ?? ClusterUser.defaultUnprivileged()
        }
        let runner = try ClusterCommandRunner(user: user, environment: childEnvironment)
        if fromPointer {
            logger.info("Using relocated PostgreSQL cluster", metadata: ["cluster": "\(cluster)", "pointer": "\(pointer)"])
            return (ClusterLayout(dataDirectory: dataDirectory, clusterDirectory: cluster), runner)
        }
        guard let user, try await !runner.canTraverse(dataDirectory) else {
            logger.info("Using PostgreSQL cluster", metadata: ["cluster": "\(cluster)"])
            return (ClusterLayout(dataDirectory: dataDirectory, clusterDirectory: cluster), runner)
        }
        if FileManager.default.fileExists(atPath: cluster + "/data/PG_VERSION") {
            throw EmbeddedPostgresError.unsafeDirectory(
                path: cluster,
                reason: "user '\(user.name)' can no longer reach it; make every parent directory searchable "
                    + "(chmod o+x) or move the cluster and write its path to \(pointer)")
        }
        let relocated = ClusterLayout.relocatedCluster(for: dataDirectory)
        logger.info(
            "Relocating PostgreSQL cluster: user '\(user.name)' cannot traverse the data directory (a parent is not searchable)",
            metadata: ["dataDirectory": "\(dataDirectory)", "cluster": "\(relocated)", "pointer": "\(pointer)"])
        try LauncherFileInfo.ensurePrivateDirectory(relocated, owner: user, adopt: false)
        try LauncherFileInfo.write(relocated + "\n", to: pointer, owner: nil, mode: 0o644)
        return (ClusterLayout(dataDirectory: dataDirectory, clusterDirectory: relocated), runner)
    }

    /// Picks the socket directory: `<cluster>/socket` if the socket path fits, else the
    /// previously recorded `/tmp/docket-pg-XXXXXX`, else a fresh one from `mkdtemp`.
    func prepareSocketDirectory(_ layout: ClusterLayout, owner: ClusterUser?) throws -> String {
        let port = configuration.port
        let preferred = layout.preferredSocketDirectory
        if Self.socketPathFits(preferred, port: port) {
            try LauncherFileInfo.ensurePrivateDirectory(preferred, owner: owner, adopt: true)
            return preferred
        }
        if let recorded = layout.readState()?.socketDirectory, recorded.hasPrefix("/tmp/docket-pg-"),
           Self.socketPathFits(recorded, port: port),
           let info = LauncherFileInfo(recorded), info.isDirectory, !info.isSymlink, info.uid == (owner?.uid ?? geteuid()) {
            return recorded
        }
        var template = Array("/tmp/docket-pg-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw EmbeddedPostgresError.unsafeDirectory(path: "/tmp/docket-pg-XXXXXX", reason: String(cString: strerror(errno)))
        }
        let directory = String(cString: made)
        try LauncherFileInfo.ensurePrivateDirectory(directory, owner: owner, adopt: true)
        logger.info(
            "Socket path under the cluster directory is too long; using a private short directory",
            metadata: [
                "wouldBe": "\(preferred)/.s.PGSQL.\(port)", "limit": "\(LauncherFileInfo.maxSocketPathLength) bytes",
                "socketDirectory": "\(directory)",
            ])
        return directory
    }
}
