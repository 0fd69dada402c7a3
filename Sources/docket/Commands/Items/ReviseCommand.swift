import ArgumentParser
import Foundation

struct ReviseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revise",
        abstract: "Add a revision of an item's document (every revision is kept).",
        discussion: """
            Reads the new text from FILE, or from standard input when FILE is -.

            Example: docket revise PP-4 paper.md --note "section 2 rewritten after peer review"
            Example: pandoc draft.docx -t markdown | docket revise PP-4 -
            """
    )

    @Argument(help: "Item id.")
    var id: String

    @Argument(help: ArgumentHelp("File with the full new text, or - for standard input.", valueName: "file"))
    var file: String

    @Option(help: ArgumentHelp("What changed, kept with the revision.", valueName: "text"))
    var note: String?

    @OptionGroup var output: OutputOptions
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let text = try await reporting { try Self.read(file) }
        var args = ["ITEM.REVISE", id, text]
        if let note { args += ["NOTE", note] }
        let command = args
        try await connection.withSession(hints: ["DENIED": "changing an item needs its author, a drafter or chair of its group, or the secretariat, and a state that is not final"]) { s in
            let reply = try await s.call(command)
            if output.printJSON(JSONValue(reply)) { return }
            Terminal.write("\(id) revision \(reply.text("revision")) (sha256 \(reply.text("sha256").prefix(12))…)\n")
        }
    }

    static func read(_ file: String) throws -> String {
        let data: Data?
        if file == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            data = FileManager.default.contents(atPath: file)
        }
        guard let data else { throw CLIFailure(.notFound, "cannot read \(file)", hint: "name a readable file, or - to read standard input") }
        guard let text = String(data: data, encoding: .utf8) else {
            throw CLIFailure(.invalid, "\(file) is not UTF-8 text", hint: "convert it first, e.g. iconv -t UTF-8 \(file)")
        }
        return text
    }
}
