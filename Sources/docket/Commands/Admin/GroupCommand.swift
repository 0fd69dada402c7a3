import ArgumentParser

struct GroupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "group",
        abstract: "Working groups, which own items and carry themes (admin).",
        discussion: """
            Example: docket group add gender-equity-wg "Working group on gender equity" --theme gender-equity
            """,
        subcommands: [Add.self, List.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a working group.",
            discussion: """
                Example: docket group add gender-equity-wg "Working group on gender equity" --theme gender-equity
                """
        )

        @Argument(help: "Slug.")
        var slug: String

        @Argument(help: "Name.")
        var name: String

        @Option(name: .customLong("theme"), help: ArgumentHelp("A theme the group works on; repeat for more.", valueName: "slug"))
        var themes: [String] = []

        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            let command = ["GROUP.ADD", slug, name] + themes.flatMap { ["THEME", $0] }
            try await connection.withSession { s in
                try await s.call(command)
                Terminal.write("added group \(slug)\n")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List working groups.",
            discussion: """
                Example: docket group list
                """
        )

        @OptionGroup var output: ReportOutputOptions
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            try await connection.withSession { s in
                DirectoryListing.print(try await s.call("GROUP.LIST"), columns: ["slug", "name", "themes"], as: output.chosen,
                                       empty: "no working groups yet — add one with `docket group add`")
            }
        }
    }
}
