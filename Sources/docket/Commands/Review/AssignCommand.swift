import ArgumentParser

struct AssignCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assign",
        abstract: "Assign reviewers to an item (chair or secretariat).",
        discussion: """
            Example: docket assign PP-4 bruno chen
            """
    )

    @Argument(help: "Item id.")
    var id: String

    @Argument(help: "Reviewers' handles.")
    var users: [String]

    @OptionGroup var output: OutputOptions
    @OptionGroup var connection: ConnectionOptions

    func validate() throws {
        if users.isEmpty { throw ValidationError("name at least one reviewer: docket assign \(id) USER...") }
    }

    func run() async throws {
        try await connection.withSession { s in
            let count = try await s.call(["REVIEW.ASSIGN", id] + users)
            if output.printJSON(JSONValue(count)) { return }
            let n = count.intValue ?? 0
            Terminal.write("\(id): \(n) reviewer\(n == 1 ? "" : "s") assigned\n")
        }
    }
}
