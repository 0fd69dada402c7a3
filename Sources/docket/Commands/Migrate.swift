import ArgumentParser
import DocketStore
import Foundation
import Logging

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply the database migrations in sql/ that are not applied yet.",
        discussion: """
            Safe to run from several processes at once: an advisory lock makes each migration
            apply exactly once. `docket serve` migrates by itself at start.

            Example: DOCKET_DATABASE_URL=postgres://docket@db/docket docket migrate
            """
    )

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        Logs.bootstrap(default: .warning)
        let logger = Logger(label: "docket.migrate")
        let applied = await reportingErrors {
            try await database.location.withStore(logger: logger, migrate: false) { store, _ in
                try await Migrator(directory: Migrator.defaultDirectory()).migrate(store.client, logger: logger)
            }
        }
        print(applied.isEmpty ? "the database is up to date" : "applied \(applied.map { String(format: "%04d", $0) }.joined(separator: ", "))")
    }
}
