import ArgumentParser

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Create and revoke users' tokens (admin).",
        discussion: """
            Example: docket token create anahit
            """,
        subcommands: [Create.self, Revoke.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a token for a user and print it (it is shown this once).",
            discussion: """
                Example: docket token create ana
                Example: DOCKET_TOKEN=$(docket token create ana) docket inbox --user ana
                """
        )

        @Argument(help: "User handle.")
        var handle: String

        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            try await connection.withSession { s in
                let token = try await s.call("TOKEN.CREATE", handle).stringValue ?? ""
                Terminal.write(token + "\n")
                if Terminal.stdoutIsTTY {
                    Terminal.writeError("shown once: give it to \(handle), who runs `docket login --user \(handle)`\n")
                }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke every token of a user.",
            discussion: """
                Example: docket token revoke ana
                """
        )

        @Argument(help: "User handle.")
        var handle: String

        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            try await connection.withSession { s in
                let n = try await s.call("TOKEN.REVOKE", handle)
                if output.printJSON(JSONValue(n)) { return }
                Terminal.write("revoked \(n.intValue ?? 0) token\(n.intValue == 1 ? "" : "s") of \(handle)\n")
            }
        }
    }
}
