import ArgumentParser
import DocketWire

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "The board: items per workflow, state and theme, with how many are overdue.",
        discussion: """
            One block per workflow, its states in order down the side and themes across; a red
            count holds overdue items. --as-of rebuilds the board as it stood at a date from the
            event log (a future date shows what will be overdue by then if nothing moves).

            Example: docket status
            Example: docket status --workflow policy-paper --as-of 2026-09-30
            Example: docket status --format csv > board.csv
            """
    )

    @Option(help: ArgumentHelp("Only this workflow.", valueName: "name"))
    var workflow: String?

    @Option(help: ArgumentHelp("Only this theme.", valueName: "slug"))
    var theme: String?

    @Option(name: .customLong("as-of"), help: ArgumentHelp("The board as it stood at this date or time (2026-11-28 or 2026-11-28T09:30:00Z).", valueName: "date"))
    var asOf: String?

    @OptionGroup var output: ReportOutputOptions
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        var args = ["REPORT.STATUS"]
        if let workflow { args += ["WORKFLOW", WorkflowKind.workflow(workflow)] }
        if let theme { args += ["THEME", theme] }
        if let asOf { args += ["ASOF", asOf] }
        let command = args
        try await connection.withSession { s in
            let replies = try await s.all([command, ["WORKFLOW.LIST"]])
            let rows = replies[0].elements
            switch output.chosen {
            case .json:
                Terminal.write(JSONValue(replies[0]).render() + "\n")
            case .csv:
                Terminal.write(CSVText.render(header: ["workflow", "state", "theme", "items", "overdue"], rows: rows.map {
                    [$0.text("workflow"), $0.text("state"), $0.text("theme"), $0.text("items"), $0.text("overdue")]
                }))
            case .table:
                Terminal.write(Board(rows: rows, workflows: replies[1].elements, asOf: asOf).render())
            }
        }
    }
}

/// The status report laid out as a board: a block per workflow, states down, themes across.
struct Board {
    var rows: [RESPValue]
    var workflows: [RESPValue]
    var asOf: String?

    func render() -> String {
        var out = asOf.map { "board as of \($0)\n\n" } ?? ""
        if rows.isEmpty { return out + "no items yet — create one with `docket new paper TITLE`\n" }
        var names = workflows.map { $0.text("name") }
        for name in rows.map({ $0.text("workflow") }) where !names.contains(name) { names.append(name) }
        var blocks: [String] = []
        var totalItems = 0
        var totalOverdue = 0
        for name in names {
            let mine = rows.filter { $0.text("workflow") == name }
            guard !mine.isEmpty else { continue }
            let definition = workflows.first { $0.text("name") == name }
            var states = definition?.list("states").map(\.displayText) ?? []
            for state in mine.map({ $0.text("state") }) where !states.contains(state) { states.append(state) }
            let themes = Array(Set(mine.map { $0.optionalText("theme") ?? "(no theme)" })).sorted { a, b in
                a == "(no theme)" ? false : b == "(no theme)" ? true : a < b
            }
            let title = definition.map { "\($0.text("title")) (\(name))" } ?? name
            var table = Table([.init(title: "STATE")] + themes.map { .init(title: $0, alignRight: true) }
                              + [.init(title: "TOTAL", alignRight: true), .init(title: "OVERDUE", alignRight: true)])
            for state in states {
                let here = mine.filter { $0.text("state") == state }
                var cells: [Table.Cell] = [.init(state)]
                for theme in themes {
                    let row = here.first { ($0.optionalText("theme") ?? "(no theme)") == theme }
                    let n = row?.int("items") ?? 0
                    let late = row?.int("overdue") ?? 0
                    cells.append(n == 0 ? .init("·", .dim) : .init(String(n), late > 0 ? .red : nil))
                }
                let items = here.reduce(0) { $0 + $1.int("items") }
                let overdue = here.reduce(0) { $0 + $1.int("overdue") }
                totalItems += items
                totalOverdue += overdue
                cells.append(items == 0 ? .init("·", .dim) : .init(String(items), .bold))
                cells.append(overdue == 0 ? .init("·", .dim) : .init(String(overdue), .red))
                table.add(cells)
            }
            blocks.append(title.styled(.bold) + "\n" + table.render())
        }
        out += blocks.joined(separator: "\n")
        let late = totalOverdue == 0 ? "none overdue" : "\(totalOverdue) overdue".styled(.red)
        out += "\n\(totalItems) item\(totalItems == 1 ? "" : "s"), \(late)"
        if totalOverdue > 0, asOf == nil { out += " — see them with `docket overdue`" }
        return out + "\n"
    }
}
