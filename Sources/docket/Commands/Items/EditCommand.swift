import ArgumentParser
import DocketWire

struct EditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edit",
        abstract: "Set fields of an item.",
        discussion: """
            Each NAME=VALUE is one ITEM.SET, in order. With --if-version the first change is
            refused (exit 75) if the item moved on since that version.

            Example: docket edit PP-4 summary="Buying green across the Eurasia section" summit="World Summit 2026"
            """
    )

    @Argument(help: "Item id, e.g. PP-4.")
    var id: String

    @Argument(help: ArgumentHelp("Fields to set.", valueName: "name=value"))
    var assignments: [String]

    @Option(name: .customLong("if-version"), help: ArgumentHelp("Only if the item is still at this version.", valueName: "n"))
    var ifVersion: Int?

    @OptionGroup var output: OutputOptions
    @OptionGroup var connection: ConnectionOptions

    func validate() throws {
        if assignments.isEmpty { throw ValidationError("name at least one field: docket edit \(id) summary=...") }
    }

    func run() async throws {
        var pairs: [(String, String)] = []
        for a in assignments { pairs.append(try await reporting { try Assignment.parse(a) }) }
        let changes = pairs
        try await connection.withSession(hints: ["DENIED": "changing an item needs its author, a drafter or chair of its group, or the secretariat, and a state that is not final", "CONFLICT": "\(id) changed since version \(ifVersion ?? 0): look with `docket show \(id)`, then try again"]) { s in
            var version = ifVersion
            var reply: RESPValue?
            for (name, value) in changes {
                var args = ["ITEM.SET", id, name, value]
                if let v = version { args += ["IFVERSION", String(v)] }
                let item = try await s.call(args)
                if version != nil { version = item.int("version") }
                reply = item
            }
            guard let last = reply else { return }
            if output.printJSON(JSONValue(last)) { return }
            Terminal.write("\(id) version \(last.text("version")): set \(changes.map(\.0).joined(separator: ", "))\n")
        }
    }
}
