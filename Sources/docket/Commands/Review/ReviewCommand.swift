import ArgumentParser

struct ReviewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review",
        abstract: "Vote on an item under review: approve, changes or reject.",
        discussion: """
            Prints the votes of the current round. A new revision makes earlier votes stale in
            workflows with stale-on-revision.

            Example: docket review PP-4 approve -m "well argued; figures check out"
            Example: docket review PP-4 changes -m "section 3 needs the 2025 data"
            """
    )

    enum Verdict: String, ExpressibleByArgument, CaseIterable {
        case approve, changes, reject
    }

    @Argument(help: "Item id.")
    var id: String

    @Argument(help: "approve, changes or reject.")
    var verdict: Verdict

    @Option(name: [.short, .customLong("message")], help: ArgumentHelp("A comment with the vote.", valueName: "comment"))
    var message: String?

    @OptionGroup var output: OutputOptions
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        var args = ["REVIEW.VOTE", id, verdict.rawValue.uppercased()]
        if let message { args += ["COMMENT", message] }
        let command = args
        try await connection.withSession(hints: ["DENIED": "run `docket show \(id)` to see its state and reviewers"]) { s in
            let counts = try await s.call(command)
            if output.printJSON(JSONValue(counts)) { return }
            var line = "\(id): \(verdict.rawValue) recorded — this round: \(counts.int("approve")) approve, \(counts.int("changes")) changes, \(counts.int("reject")) reject"
            if counts.int("stale") > 0 { line += " (\(counts.int("stale")) stale)" }
            Terminal.write(line + "\n")
        }
    }
}
