import ArgumentParser

struct TextCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "text",
        abstract: "Print the text of an item's document (the latest revision, or --rev N).",
        discussion: """
            Example: docket text PP-4 > paper.md
            Example: docket text PP-4 --rev 1
            """
    )

    @Argument(help: "Item id.")
    var id: String

    @Option(help: ArgumentHelp("Revision number (default: the latest).", valueName: "n"))
    var rev: Int?

    @OptionGroup var output: OutputOptions
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        var args = ["ITEM.TEXT", id]
        if let rev { args += ["REV", String(rev)] }
        let command = args
        try await connection.withSession(hints: ["NOTFOUND": "run `docket show \(id)` to see its revisions"]) { s in
            let text = try await s.call(command).stringValue ?? ""
            if output.printJSON(.string(text)) { return }
            Terminal.write(text)
            if Terminal.stdoutIsTTY, !text.isEmpty, !text.hasSuffix("\n") { Terminal.write("\n") }
        }
    }
}
