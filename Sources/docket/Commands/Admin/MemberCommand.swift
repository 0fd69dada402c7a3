import ArgumentParser

struct MemberCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "member",
        abstract: "Member governments: cities, regions, metropolises, associations (admin).",
        discussion: """
            Example: docket member list
            Example: docket member import members.csv
            """,
        subcommands: [Add.self, List.self, MemberImport.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a member government.",
            discussion: """
                Example: docket member add tbilisi "თბილისი" --kind city --country GE --section Eurasia
                """
        )

        @Argument(help: "Slug: lowercase letters, digits and dashes.")
        var slug: String

        @Argument(help: "Name, in any script.")
        var name: String

        @Option(help: "city, region, metropolis, association or other.")
        var kind: String?

        @Option(help: ArgumentHelp("ISO 3166 country code.", valueName: "cc"))
        var country: String?

        @Option(help: ArgumentHelp("Regional section, e.g. Eurasia.", valueName: "name"))
        var section: String?

        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            let command = MemberImport.command(slug: slug, name: name, kind: kind, country: country, section: section)
            try await connection.withSession { s in
                try await s.call(command)
                Terminal.write("added member \(slug) (\(name))\n")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List member governments.",
            discussion: """
                Example: docket member list
                Example: docket member list --format csv > members.csv
                """
        )

        @OptionGroup var output: ReportOutputOptions
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            try await connection.withSession { s in
                DirectoryListing.print(try await s.call("MEMBER.LIST"), columns: ["slug", "name", "kind", "country", "section"],
                                       as: output.chosen, empty: "no members yet — add one with `docket member add` or `docket member import`")
            }
        }
    }
}
