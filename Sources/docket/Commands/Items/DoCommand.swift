import ArgumentParser

struct DoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "do",
        abstract: "Fire a transition: submit, accept, send-back, adopt...",
        discussion: """
            Refused transitions exit 77 and list every failed check; `docket why ID TRANSITION`
            shows all checks. With --if-version the transition is refused (exit 75) if the item
            changed since that version.

            Example: docket do PP-4 submit -m "ready for peer review"
            Example: docket do PP-4 adopt --if-version 13
            """
    )

    @Argument(help: "Item id.")
    var id: String

    @Argument(help: "Transition name (see `docket show ID`).")
    var transition: String

    @Option(name: [.short, .customLong("message")], help: ArgumentHelp("A comment kept with the transition.", valueName: "comment"))
    var message: String?

    @Option(name: .customLong("if-version"), help: ArgumentHelp("Only if the item is still at this version.", valueName: "n"))
    var ifVersion: Int?

    @Option(help: ArgumentHelp("Idempotency key: repeating the command with the same key does nothing more.", valueName: "key"))
    var key: String?

    @OptionGroup var output: OutputOptions
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        var args = ["ITEM.FIRE", id, transition]
        if let message { args += ["COMMENT", message] }
        if let ifVersion { args += ["IFVERSION", String(ifVersion)] }
        if let key { args += ["KEY", key] }
        let command = args
        let hints = [
            "DENIED": "run `docket why \(id) \(transition)` to see every check",
            "CONFLICT": "look at \(id) with `docket show \(id)`, then try again with its current version",
        ]
        try await connection.withSession(hints: hints) { s in
            let event = try await s.call(command)
            if output.printJSON(JSONValue(event)) { return }
            Terminal.write("\(id): \(transition) — \(event.text("from")) → \(event.text("to").styled(.bold)) (version \(event.text("version")))\n")
        }
    }
}
