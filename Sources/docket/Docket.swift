import ArgumentParser
import Foundation

@main
struct Docket: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "docket",
        abstract: "Policy papers and thematic projects through drafting, review and endorsement.",
        discussion: """
            Docket moves the association's items — policy papers, thematic projects, membership applications — through their workflows. Start the service with `docket serve` (with nothing configured it runs its own PostgreSQL under .docket/); every other command talks to it over the admin protocol, as the user `docket login` stored, or --user/--token, or, against a local server, as admin with the token in .docket/admin.token.

            Read commands take --json; reports (status, list, waiting, report cycle, ...) take --format csv. Colour only on a terminal, and never with NO_COLOR set.

            Exit codes: 0 success; 1 failure; 64 usage (bad arguments); 65 invalid input (INVALID); 66 not found (NOTFOUND); 69 unavailable (server or database unreachable, UNAVAILABLE); 75 conflict, reload and retry (CONFLICT); 77 denied or not permitted (DENIED, NOPERM, NOAUTH, WRONGPASS).

            Example: docket status
            Example: docket new paper "Green public procurement" --theme sustainability --group sustainability-wg
            """,
        version: DocketVersion.current,
        groupedSubcommands: [
            CommandGroup(name: "Drafting", subcommands: [NewCommand.self, EditCommand.self, ReviseCommand.self, TextCommand.self, DiffCommand.self,
                                                         CommentCommand.self, DoCommand.self, WhyCommand.self, MilestoneCommand.self]),
            CommandGroup(name: "Reviewing and endorsing", subcommands: [InboxCommand.self, ReviewCommand.self, AssignCommand.self,
                                                                        EndorseCommand.self, UnendorseCommand.self]),
            CommandGroup(name: "Tracking", subcommands: [StatusCommand.self, ListCommand.self, ShowCommand.self, HistoryCommand.self,
                                                         WaitingCommand.self, OverdueCommand.self, ReportCommand.self, WatchCommand.self,
                                                         ExportCommand.self]),
            CommandGroup(name: "Administration", subcommands: [MemberCommand.self, UserCommand.self, GroupCommand.self, ThemeCommand.self,
                                                               TokenCommand.self, WorkflowCommand.self, SeedCommand.self]),
            CommandGroup(name: "Connection", subcommands: [LoginCommand.self, LogoutCommand.self, WhoamiCommand.self]),
            CommandGroup(name: "Service", subcommands: [Serve.self, Migrate.self, HealthCommand.self, BackupCommand.self, RestoreCommand.self,
                                                         AuditCommand.self]),
        ]
    )
}

enum DocketVersion {
    static let current = "0.1.0"
}
