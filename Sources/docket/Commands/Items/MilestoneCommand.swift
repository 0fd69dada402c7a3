import ArgumentParser
import DocketWire

struct MilestoneCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "milestone",
        abstract: "A thematic project's milestones: add, mark done, list.",
        discussion: """
            A running project reports (`docket do TP-1 report`) once all its milestones are done.

            Example: docket milestone add TP-1 "Sensors installed in 40 schools" --due 2027-03-01
            Example: docket milestone done TP-1 1
            """,
        subcommands: [Add.self, Done.self, List.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a milestone; prints its number.",
            discussion: """
                Example: docket milestone add TP-1 "Open data portal live" --due 2027-06-01
                """
        )

        @Argument(help: "Item id.")
        var id: String

        @Argument(help: "What will be done.")
        var title: String

        @Option(help: ArgumentHelp("Due date (2027-06-01 or 2027-06-01T12:00:00Z).", valueName: "date"))
        var due: String?

        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            var args = ["MILESTONE.ADD", id, title]
            if let due { args += ["DUE", due] }
            let command = args
            try await connection.withSession { s in
                let number = try await s.call(command)
                if output.printJSON(JSONValue(number)) { return }
                Terminal.write("\(id): milestone \(number.intValue ?? 0) added\n")
            }
        }
    }

    struct Done: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mark a milestone done.",
            discussion: """
                Example: docket milestone done TP-1 2
                """
        )

        @Argument(help: "Item id.")
        var id: String

        @Argument(help: "Milestone number (see `docket milestone list`).")
        var number: Int

        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            try await connection.withSession { s in
                let counts = try await s.call("MILESTONE.DONE", id, String(number))
                if output.printJSON(JSONValue(counts)) { return }
                Terminal.write("\(id): milestone \(number) done — \(counts.int("done")) of \(counts.int("total")) done\n")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List an item's milestones.",
            discussion: """
                Example: docket milestone list TP-1
                """
        )

        @Argument(help: "Item id.")
        var id: String

        @OptionGroup var output: ReportOutputOptions
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            try await connection.withSession { s in
                DirectoryListing.print(try await s.call("MILESTONE.LIST", id), columns: ["number", "title", "due", "done_at"],
                                       as: output.chosen, empty: "\(id) has no milestones — add one with `docket milestone add \(id) TITLE`")
            }
        }
    }
}
