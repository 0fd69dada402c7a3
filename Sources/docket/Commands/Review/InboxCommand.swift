import ArgumentParser
import Foundation

struct InboxCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inbox",
        abstract: "What waits on you: items to review or move on, oldest first, with due dates.",
        discussion: """
            Lists items waiting on you (ITEM.LIST WAITING you): reviews assigned to you that you
            have not voted on, and items in states whose transitions your roles may fire.

            Example: docket inbox
            Example: docket inbox --json | jq -r '.[].id'
            """
    )

    @Option(help: ArgumentHelp("At most this many items.", valueName: "n"))
    var limit = 100

    @OptionGroup var output: OutputOptions
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        try await connection.withSession { s in
            let items = try await s.call("ITEM.LIST", "WAITING", s.user, "LIMIT", String(limit)).elements
            if output.printJSON(JSONValue(.array(items))) { return }
            if items.isEmpty {
                Terminal.write("nothing waits on \(s.user)\n")
                return
            }
            let now = Date()
            var table = Table([.init(title: "ID"), .init(title: "TITLE", maxWidth: 48), .init(title: "STATE"), .init(title: "SINCE"), .init(title: "DUE")])
            for item in items {
                table.add([.init(item.text("id"), .bold), .init(item.text("title")), .init(item.text("state")),
                           .init(When.ago(item.optionalText("state_since"), now: now)), When.due(item.optionalText("due_at"), now: now)])
            }
            Terminal.write(table.render())
        }
    }
}
