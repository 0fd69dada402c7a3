import ArgumentParser
import DocketStore
import Foundation
import Logging

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run Docket: migrate the database, load the workflows, serve the admin protocol.",
        discussion: """
            With no --database-url (or DOCKET_DATABASE_URL) it starts its own PostgreSQL under
            the data directory and stops it on exit. On first start it creates the user admin
            and writes its token to DATA_DIR/admin.token (mode 0600).

            Example: docket serve
                     docket serve --listen 0.0.0.0:7433 --database-url postgres://docket@db/docket
            """
    )

    @OptionGroup var database: DatabaseOptions

    @Option(help: ArgumentHelp("Directory of workflow definitions to load at start.", valueName: "dir"))
    var workflows = "Workflows"

    func run() async throws {
        Logs.bootstrap()
        let logger = Logger(label: "docket")
        let location = database.location
        let workflowsDirectory = URL(fileURLWithPath: workflows)
        await reportingErrors {
            try await location.withStore(logger: logger) { store, url in
                let loaded = try await store.loadWorkflows(directory: workflowsDirectory)
                for w in loaded where w.changed {
                    logger.info("workflow ready", metadata: ["docket.workflow": "\(w.name)", "docket.version": "\(w.version)"])
                }
                if let token = try await store.bootstrapAdmin() {
                    try AdminToken.write(token, dataDirectory: location.dataDirectory)
                    logger.notice("created user admin; token in \(location.dataDirectory)/admin.token")
                }
                logger.notice("database ready", metadata: ["docket.database": "\(url)"])
                await Signals.wait(for: [SIGINT, SIGTERM])
                logger.notice("shutting down")
            }
        }
    }
}

enum AdminToken {
    /// Writes the admin token with mode 0600.
    static func write(_ token: String, dataDirectory: String) throws {
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
        let path = "\(dataDirectory)/admin.token"
        FileManager.default.createFile(atPath: path, contents: Data((token + "\n").utf8), attributes: [.posixPermissions: 0o600])
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
    }
}

enum Signals {
    /// Suspends until one of `signals` arrives.
    static func wait(for signals: [Int32]) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let once = OnceBox(continuation)
            for sig in signals {
                signal(sig, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
                source.setEventHandler { once.resume() }
                source.resume()
                once.retain(source)
            }
        }
    }

    final class OnceBox: @unchecked Sendable {
        private let lock = NSLock()
        private var continuation: CheckedContinuation<Void, Never>?
        private var sources: [any DispatchSourceSignal] = []
        init(_ c: CheckedContinuation<Void, Never>) { continuation = c }
        func retain(_ s: any DispatchSourceSignal) { lock.withLock { sources.append(s) } }
        func resume() { lock.withLock { continuation?.resume(); continuation = nil } }
    }
}
