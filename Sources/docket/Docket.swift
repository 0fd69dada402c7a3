import ArgumentParser
import Foundation

@main
struct Docket: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "docket",
        abstract: "Policy papers and thematic projects through drafting, review and endorsement.",
        discussion: """
            Docket moves the association's items through their workflows on PostgreSQL.
            Start the service with `docket serve`; with nothing configured it runs its own
            PostgreSQL under .docket/.

            Exit codes: 0 success, 1 failure (e.g. `workflow check` found errors), 64 usage,
            65 invalid input, 66 not found, 69 unavailable (database or server), 75 conflict
            (retry), 77 denied or not permitted.
            """,
        version: DocketVersion.current,
        subcommands: [Serve.self, Migrate.self, WorkflowCommand.self]
    )
}

enum DocketVersion {
    static let current = "0.1.0"
}
