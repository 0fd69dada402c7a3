import ArgumentParser

struct CommentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "comment",
        abstract: "Add a comment to an item's history.",
        discussion: """
            Example: docket comment PP-4 "Kazan's figures for 2025 are in the annex"
            """
    )

    @Argument(help: "Item id.")
    var id: String

    @Argument(help: "The comment.")
    var text: String

    @OptionGroup var output: OutputOptions
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        try await connection.withSession { s in
            let event = try await s.call("ITEM.COMMENT", id, text)
            if output.printJSON(JSONValue(event)) { return }
            Terminal.write("\(id) version \(event.text("version")): comment added\n")
        }
    }
}
