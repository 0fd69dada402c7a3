import DocketClient
import DocketStore
import DocketTestSupport
import DocketWire
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A real `docket serve` child process (a `BackgroundProcess`) with the port it printed on
/// its `listening on` line and its data directory.
final class ProcessServer: Sendable {
    let process: BackgroundProcess
    let port: Int
    let dataDirectory: String

    var address: ServerAddress { ServerAddress(host: "127.0.0.1", port: port) }
    var directory: String { process.directory }
    var pid: pid_t { process.pid }

    private init(process: BackgroundProcess, port: Int, dataDirectory: String) {
        self.process = process
        self.port = port
        self.dataDirectory = dataDirectory
    }

    typealias Failure = BackgroundProcess.Failure

    /// Starts `docket serve --listen 127.0.0.1:0 --data-dir DATA --workflows Workflows` with
    /// `extra` arguments (`--database-url`, `--db-timeout` ...), waits for its `listening on`
    /// line and returns. Each start gets its own scratch directory under `scratch`.
    static func start(database url: DatabaseURL?, dataDirectory: String, scratch: String, extra: [String] = [],
                      environment: [String: String] = [:], timeout: Duration = .seconds(60)) async throws -> ProcessServer {
        let docket = CLI.docketPath
        guard FileManager.default.isExecutableFile(atPath: docket) else { throw Failure(description: "build the docket binary first: \(docket)") }
        let directory = scratch + "/serve-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let root = TestDatabase.packageRoot.path
        var command = [docket, "serve", "--listen", "127.0.0.1:0", "--data-dir", dataDirectory, "--workflows", root + "/Workflows"]
        if let url { command += ["--database-url", url.connectionString] }
        command += extra
        var env = ["DOCKET_LOG_LEVEL": "info"]
        for (k, v) in environment { env[k] = v }
        let process = try await BackgroundProcess.start(command, in: root, scratch: directory, environment: env)
        if let line = try await process.waitForLine(timeout: timeout, { $0.hasPrefix("listening on ") }),
           let port = Int(line.split(separator: ":").last ?? "") {
            return ProcessServer(process: process, port: port, dataDirectory: dataDirectory)
        }
        process.stop()
        throw Failure(description: "docket serve printed no listening line; stderr:\n\(process.stderr.suffix(3000))")
    }

    var stdout: String { process.stdout }
    var stderr: String { process.stderr }
    /// The exit status (128 + signal if killed), once it has exited.
    var exitStatus: Int32? { process.exitStatus }
    func waitForExit(timeout: Duration) async throws -> Int32? { try await process.waitForExit(timeout: timeout) }
    func signal(_ signal: Int32) { process.signal(signal) }

    var adminToken: String {
        ((try? String(contentsOfFile: dataDirectory + "/admin.token", encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// SIGKILL and wait for the exit; a test never leaves its child behind.
    func kill9() async {
        signal(SIGKILL)
        _ = try? await waitForExit(timeout: .seconds(10))
    }

    /// SIGKILL if it is still running (for `defer`).
    func stop() { process.stop() }

    /// A client authenticated as admin with the token from the data directory.
    func admin(resp3: Bool = false, timeout: Duration = .seconds(30)) async throws -> DocketClient {
        let client = try await DocketClient.connect(to: address, timeout: timeout)
        do {
            if resp3 { try await client.hello(3, user: "admin", token: adminToken) } else { try await client.auth(user: "admin", token: adminToken) }
        } catch {
            await client.close()
            throw error
        }
        return client
    }
}

/// A fresh temporary directory for `body`, removed afterwards.
func withProcessScratch<T: Sendable>(_ body: @Sendable (String) async throws -> T) async throws -> T {
    let dir = NSTemporaryDirectory() + "docket-proc-\(UUID().uuidString.prefix(12))"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    return try await body(dir)
}

/// A workflow whose items go round in one state, for loads of fires.
let processLoopYAML = """
    workflow: crashloop
    version: 1
    title: Loop for fault tests
    prefix: CL
    create: [admin, secretariat]
    initial: open
    states:
      open:
        on:
          touch: { to: open, by: [admin, secretariat] }
          flip: { to: other, by: [admin, secretariat] }
          close: { to: closed, by: [admin, secretariat] }
      other:
        on:
          touch: { to: other, by: [admin, secretariat] }
          flip: { to: open, by: [admin, secretariat] }
          close: { to: closed, by: [admin, secretariat] }
      closed: { final: true }
    """

/// Checks an item as the server shows it: its state and version are those of the last event
/// of its history, versions run 1, 2, 3... without a gap, and each event starts where the
/// previous one ended. Returns the history.
@discardableResult
func processCheckReplay(_ client: DocketClient, _ id: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> [RESPValue] {
    let item = try await client.call("ITEM.GET", id)
    let history = try await client.call("ITEM.HISTORY", id).arrayValue ?? []
    let last = try #require(history.last, "\(id) has no history", sourceLocation: sourceLocation)
    #expect(item["version"]?.intValue == last["version"]?.intValue, "\(id): version \(item["version"]?.intValue ?? -1) vs last event \(last["version"]?.intValue ?? -1)", sourceLocation: sourceLocation)
    #expect(item["state"]?.stringValue == last["to"]?.stringValue, "\(id): state \(item["state"]?.stringValue ?? "?") vs last event to \(last["to"]?.stringValue ?? "?")", sourceLocation: sourceLocation)
    var state: String?
    for (i, event) in history.enumerated() {
        #expect(event["version"]?.intValue == i + 1, "\(id): event \(i) has version \(event["version"]?.intValue ?? -1)", sourceLocation: sourceLocation)
        if let state, event["type"]?.stringValue == "transition" {
            #expect(event["from"]?.stringValue == state, "\(id) v\(i + 1) starts from \(event["from"]?.stringValue ?? "?"), not \(state)", sourceLocation: sourceLocation)
        }
        if let to = event["to"]?.stringValue { state = to }
    }
    #expect(state == item["state"]?.stringValue, "\(id): replayed state \(state ?? "?") vs \(item["state"]?.stringValue ?? "?")", sourceLocation: sourceLocation)
    return history
}
