import ArgumentParser
import DocketStore
import Foundation
import Logging

struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Write the whole database to FILE with pg_dump (custom format).",
        discussion: """
            Finds the database as `docket serve` does: --database-url or DOCKET_DATABASE_URL, or
            else the embedded cluster under --data-dir (started for the backup if it is not
            running, and stopped again). The dump is consistent even while servers write; it is
            written to FILE.partial and renamed when complete, with mode 0600 (it holds the
            tokens' hashes). Restore it with `docket restore FILE`, or with pg_restore.

            Example: docket backup docket-2026-11-28.dump
            Example: DOCKET_DATABASE_URL=postgres://docket@db/docket docket backup /var/backups/docket.dump
            """
    )

    @Argument(help: ArgumentHelp("The file to write (replaced if it exists).", valueName: "file"))
    var file: String

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        Logs.bootstrap(default: .warning)
        let logger = Logger(label: "docket.backup")
        let target = URL(fileURLWithPath: file).standardizedFileURL.path
        let partial = target + ".partial"
        let directory = (target as NSString).deletingLastPathComponent
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CLIFailure(.usage, "no directory \(directory) to write \(file) in").report()
        }
        let location = database.location
        let summary = await reportingErrors {
            try await PostgresTools.exitOnCLIFailure {
                try await PostgresTools.withDatabase(location, logger: logger) { url, store in
                    let counts = try await PostgresTools.counts(store, url: url, logger: logger)
                    // Create the file 0600 before pg_dump writes into it.
                    _ = FileManager.default.createFile(atPath: partial, contents: nil, attributes: [.posixPermissions: 0o600])
                    do {
                        try await PostgresTools.run("pg_dump", ["--format=custom", "--no-owner", "--no-acl", "--file", partial], url: url,
                                                    failure: "backup of \(url) failed")
                        if FileManager.default.fileExists(atPath: target) { try FileManager.default.removeItem(atPath: target) }
                        try FileManager.default.moveItem(atPath: partial, toPath: target)
                    } catch {
                        try? FileManager.default.removeItem(atPath: partial)
                        throw error
                    }
                    let bytes = (try? FileManager.default.attributesOfItem(atPath: target)[.size] as? Int) ?? 0
                    return "backed up \(url) to \(file): \(counts.items.map(String.init) ?? "no") items, \(counts.events.map(String.init) ?? "no") events, \(PostgresTools.size(bytes))"
                }
            }
        }
        Terminal.write(summary + "\n")
    }
}
