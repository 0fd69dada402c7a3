import ArgumentParser

struct EndorseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "endorse",
        abstract: "Endorse an item on behalf of the member government you represent.",
        discussion: """
            Without --member, endorses for the member your user represents (see `docket whoami`).
            The secretariat may record an endorsement for any member with --member.

            Example: docket endorse PP-4 -m "Tbilisi City Hall supports this position"
            Example: docket endorse PP-4 --member almaty
            """
    )

    @Argument(help: "Item id.")
    var id: String

    @Option(help: ArgumentHelp("Member slug (default: the one you represent).", valueName: "slug"))
    var member: String?

    @Option(name: [.short, .customLong("message")], help: ArgumentHelp("A comment with the endorsement.", valueName: "comment"))
    var message: String?

    @OptionGroup var output: OutputOptions
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        try await connection.withSession(hints: ["DENIED": "only items open for endorsement take endorsements; see `docket show \(id)`"]) { s in
            let slug = try await Self.member(member, s)
            var args = ["ENDORSE", id, slug]
            if let message { args += ["COMMENT", message] }
            let count = try await s.call(args)
            if output.printJSON(JSONValue(count)) { return }
            Terminal.write("\(id): endorsed for \(slug) — \(count.intValue ?? 0) endorsement\(count.intValue == 1 ? "" : "s") now\n")
        }
    }

    /// `--member`, or the member the user represents.
    static func member(_ given: String?, _ s: Session) async throws -> String {
        if let given { return given }
        let me = try await s.whoami()
        guard let member = me.optionalText("member") else {
            throw CLIFailure(.usage, "\(s.user) represents no member government", hint: "pass --member SLUG (the secretariat may record any member's endorsement)")
        }
        return member
    }
}

struct UnendorseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unendorse",
        abstract: "Withdraw an endorsement.",
        discussion: """
            Example: docket unendorse PP-4
            Example: docket unendorse PP-4 --member almaty
            """
    )

    @Argument(help: "Item id.")
    var id: String

    @Option(help: ArgumentHelp("Member slug (default: the one you represent).", valueName: "slug"))
    var member: String?

    @OptionGroup var output: OutputOptions
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        try await connection.withSession(hints: ["DENIED": "see the endorsements with `docket show \(id)`"]) { s in
            let slug = try await EndorseCommand.member(member, s)
            let count = try await s.call("ENDORSE.WITHDRAW", id, slug)
            if output.printJSON(JSONValue(count)) { return }
            Terminal.write("\(id): endorsement of \(slug) withdrawn — \(count.intValue ?? 0) endorsement\(count.intValue == 1 ? "" : "s") now\n")
        }
    }
}
