import ArgumentParser

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "People: handles, names, the member they represent, roles (admin).",
        discussion: """
            Example: docket user add nino "ნინო ბერიძე" --member tbilisi
            Example: docket user grant nino chair --group gender-equity-wg
            """,
        subcommands: [Add.self, List.self, Grant.self, Revoke.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a user.",
            discussion: """
                Global roles are admin and secretariat; working-group roles (chair, drafter,
                reviewer) are granted with `docket user grant HANDLE ROLE --group G`. With
                --with-token the user's first token is created and printed (shown once).

                Example: docket user add nino "ნინო ბერიძე" --member tbilisi
                Example: docket user add aigul "Айгуль Сафина" --role secretariat --with-token
                """
        )

        @Argument(help: "Handle: what the user logs in as.")
        var handle: String

        @Argument(help: "Full name, in any script.")
        var name: String

        @Option(help: ArgumentHelp("The member government the user represents.", valueName: "slug"))
        var member: String?

        @Option(name: .customLong("role"), help: ArgumentHelp("A global role (admin, secretariat); repeat for more.", valueName: "role"))
        var roles: [String] = []

        @Flag(name: .customLong("with-token"), help: "Create a token for the user and print it.")
        var withToken = false

        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            var args = ["USER.ADD", handle, name]
            if let member { args += ["MEMBER", member] }
            for role in roles { args += ["ROLE", role] }
            let command = args
            try await connection.withSession { s in
                try await s.call(command)
                if withToken {
                    let token = try await s.call("TOKEN.CREATE", handle).stringValue ?? ""
                    Terminal.writeError("added user \(handle); their token (shown once):\n")
                    Terminal.write(token + "\n")
                } else {
                    Terminal.write("added user \(handle) — create a token with `docket token create \(handle)`\n")
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List users with their member and roles.",
            discussion: """
                Example: docket user list
                """
        )

        @OptionGroup var output: ReportOutputOptions
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            try await connection.withSession { s in
                DirectoryListing.print(try await s.call("USER.LIST"), columns: ["handle", "name", "member", "roles", "groups"],
                                       as: output.chosen, empty: "no users")
            }
        }
    }

    struct Grant: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Grant a role: admin or secretariat, or chair, drafter or reviewer in a working group.",
            discussion: """
                Example: docket user grant nino chair --group gender-equity-wg
                Example: docket user grant aigul secretariat
                """
        )

        @Argument(help: "User handle.")
        var handle: String

        @Argument(help: "admin, secretariat; with --group: chair, drafter, reviewer.")
        var role: String

        @Option(help: ArgumentHelp("The working group, for group roles.", valueName: "slug"))
        var group: String?

        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            try await UserCommand.change("USER.GRANT", handle, role, group, connection)
            Terminal.write("granted \(role)\(group.map { " in \($0)" } ?? "") to \(handle)\n")
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a role.",
            discussion: """
                Example: docket user revoke bruno reviewer --group sustainability-wg
                """
        )

        @Argument(help: "User handle.")
        var handle: String

        @Argument(help: "The role.")
        var role: String

        @Option(help: ArgumentHelp("The working group, for group roles.", valueName: "slug"))
        var group: String?

        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            try await UserCommand.change("USER.REVOKE", handle, role, group, connection)
            Terminal.write("revoked \(role)\(group.map { " in \($0)" } ?? "") from \(handle)\n")
        }
    }

    static func change(_ verb: String, _ handle: String, _ role: String, _ group: String?, _ connection: ConnectionOptions) async throws {
        var args = [verb, handle, role]
        if let group { args += ["GROUP", group] }
        let command = args
        try await connection.withSession { s in _ = try await s.call(command) }
    }
}
