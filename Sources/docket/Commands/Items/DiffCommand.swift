import ArgumentParser

struct DiffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "Show what changed between two revisions of an item's document.",
        discussion: """
            Prints a unified diff, coloured on a terminal.

            Example: docket diff PP-4 1 2
            """
    )

    @Argument(help: "Item id.")
    var id: String

    @Argument(help: "The older revision.")
    var a: Int

    @Argument(help: "The newer revision.")
    var b: Int

    @OptionGroup var output: OutputOptions
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        try await connection.withSession(hints: ["NOTFOUND": "run `docket show \(id)` to see its revisions"]) { s in
            let diff = try await s.call("ITEM.DIFF", id, String(a), String(b)).stringValue ?? ""
            if output.printJSON(.string(diff)) { return }
            var out = ""
            for line in diff.split(separator: "\n", omittingEmptySubsequences: false) {
                let text = String(line)
                let style: Style? = text.hasPrefix("+++") || text.hasPrefix("---") ? .bold
                    : text.hasPrefix("+") ? .green : text.hasPrefix("-") ? .red : text.hasPrefix("@@") ? .cyan : nil
                out += text.styled(style) + "\n"
            }
            if out.hasSuffix("\n\n") { out.removeLast() }
            Terminal.write(diff.isEmpty ? "revisions \(a) and \(b) are the same\n" : out)
        }
    }
}
