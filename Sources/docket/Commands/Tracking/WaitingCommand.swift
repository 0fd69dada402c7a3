import ArgumentParser
import Foundation

struct WaitingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "waiting",
        abstract: "Who each open item waits on, longest waiting first.",
        discussion: """
            An item waits on its assigned reviewers who have not voted, or else on the roles
            that may move it on. Items are ordered by when they entered their state; the
            first 100 are shown unless --limit says otherwise.

            Example: docket waiting
            Example: docket waiting --for giorgi --format csv
            """
    )

    @Option(name: .customLong("for"), help: ArgumentHelp("Only items waiting on this user.", valueName: "user"))
    var user: String?

    @Option(help: ArgumentHelp("At most this many items (1 to 10000).", valueName: "n"))
    var limit: Int?

    @OptionGroup var output: ReportOutputOptions
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        var args = ["REPORT.WAITING"]
        if let user { args += ["USER", user] }
        if let limit { args += ["LIMIT", String(limit)] }
        let command = args
        try await connection.withSession { s in
            let reply = try await s.call(command)
            let rows = reply.elements
            switch output.chosen {
            case .json: Terminal.write(JSONValue(reply).render() + "\n")
            case .csv:
                Terminal.write(CSVText.render(header: ["item", "state", "waiting_on", "since", "due_at"], rows: rows.map {
                    [$0.text("item"), $0.text("state"), $0.list("waiting_on").map(\.displayText).joined(separator: " "), $0.text("since"), $0.text("due_at")]
                }))
            case .table:
                if rows.isEmpty {
                    Terminal.write("nothing is waiting\n")
                    return
                }
                let now = Date()
                var table = Table("ITEM", "STATE", "WAITING ON", "SINCE", "DUE")
                for row in rows {
                    table.add([.init(row.text("item"), .bold), .init(row.text("state")), .init(row.list("waiting_on").map(\.displayText).joined(separator: ", ")),
                               .init(When.ago(row.optionalText("since"), now: now)), When.due(row.optionalText("due_at"), now: now)])
                }
                Terminal.write(table.render())
            }
        }
    }
}
