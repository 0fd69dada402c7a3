import ArgumentParser
import DocketClient
import DocketWire

struct WatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Follow events as they happen, one line per event, until interrupted.",
        discussion: """
            Subscribes with WATCH over RESP3 and prints each event the server pushes that you may
            see. With --json each line is one JSON object. Stop with Ctrl-C, or after --count events.

            Example: docket watch
            Example: docket watch --workflow policy-paper --theme gender-equity
            Example: docket watch --item PP-4 --json | jq -c '{item, type, to}'
            """
    )

    @Option(help: ArgumentHelp("Only this workflow.", valueName: "name"))
    var workflow: String?

    @Option(help: ArgumentHelp("Only this item.", valueName: "id"))
    var item: String?

    @Option(help: ArgumentHelp("Only this theme.", valueName: "slug"))
    var theme: String?

    @Option(help: ArgumentHelp("Stop after this many events.", valueName: "n"))
    var count: Int?

    @Flag(help: "Print each event as one line of JSON.")
    var json = false

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        var args = ["WATCH"]
        if let workflow { args += ["WORKFLOW", WorkflowKind.workflow(workflow)] }
        if let item { args += ["ITEM", item] }
        if let theme { args += ["THEME", theme] }
        let command = args
        try await connection.withSession { s in
            let reply = try await s.call(command)
            if !json {
                Terminal.writeError("watching \(reply.elements.dropFirst().first?.displayText ?? "all events") on \(s.settings.address) — Ctrl-C to stop\n")
            }
            var seen = 0
            for await push in s.client.pushes {
                let frame = push.elements
                guard frame.count == 3, frame[0].displayText == "event" || frame[0].displayText == "message" else { continue }
                let event = frame[2]
                Terminal.write((json ? JSONValue(event).renderCompact() : EventSummary.line(event)) + "\n")
                seen += 1
                if let count, seen >= count { return }
            }
            throw CLIFailure(.unavailable, "the server closed the connection", hint: "run `docket watch` again to resume")
        }
    }
}
