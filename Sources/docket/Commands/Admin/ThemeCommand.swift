import ArgumentParser

struct ThemeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "theme",
        abstract: "Themes: gender-equity, sustainability, local-innovation and more (admin).",
        discussion: """
            Example: docket theme list
            """,
        subcommands: [Add.self, List.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a theme.",
            discussion: """
                Example: docket theme add culture "Culture in sustainable cities"
                """
        )

        @Argument(help: "Slug.")
        var slug: String

        @Argument(help: "Name.")
        var name: String

        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            try await connection.withSession { s in
                try await s.call("THEME.ADD", slug, name)
                Terminal.write("added theme \(slug)\n")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List themes.",
            discussion: """
                Example: docket theme list
                """
        )

        @OptionGroup var output: ReportOutputOptions
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            try await connection.withSession { s in
                DirectoryListing.print(try await s.call("THEME.LIST"), columns: ["slug", "name"], as: output.chosen, empty: "no themes")
            }
        }
    }
}
