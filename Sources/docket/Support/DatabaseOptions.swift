import ArgumentParser
import DocketStore
import Foundation
import Logging

/// Where the data is: shared by every command that talks to PostgreSQL directly.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: ArgumentHelp("Data directory for the embedded PostgreSQL and the admin token (env DOCKET_DATA_DIR; default .docket).", valueName: "dir"))
    var dataDirectoryFlag: String?

    var dataDirectory: String {
        dataDirectoryFlag ?? ProcessInfo.processInfo.environment["DOCKET_DATA_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? ".docket"
    }

    @Option(name: .customLong("database-url"), help: ArgumentHelp(
        "PostgreSQL to use, e.g. postgres://docket@db:5432/docket (env DOCKET_DATABASE_URL). Without it Docket runs its own cluster in the data directory.",
        valueName: "url"))
    var databaseURL: String?

    var location: DatabaseLocation {
        DatabaseLocation(url: databaseURL ?? ProcessInfo.processInfo.environment["DOCKET_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 },
                         dataDirectory: dataDirectory)
    }
}
