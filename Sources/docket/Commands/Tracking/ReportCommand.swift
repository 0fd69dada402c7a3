import ArgumentParser

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Reports for the secretariat.",
        discussion: """
            Example: docket report cycle --format csv
            """,
        subcommands: [Cycle.self]
    )

    struct Cycle: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Time spent in each state: how often items entered it, median and 90th percentile stay.",
            discussion: """
                Stays still in progress are counted in ENTERED but not in the times.

                Example: docket report cycle
                Example: docket report cycle --workflow paper --since 2026-01-01 --format csv
                """
        )

        @Option(help: ArgumentHelp("Only this workflow.", valueName: "name"))
        var workflow: String?

        @Option(help: ArgumentHelp("Only stays that began at or after this date.", valueName: "date"))
        var since: String?

        @OptionGroup var output: ReportOutputOptions
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            var args = ["REPORT.CYCLE"]
            if let workflow { args += ["WORKFLOW", WorkflowKind.workflow(workflow)] }
            if let since { args += ["SINCE", since] }
            let command = args
            try await connection.withSession { s in
                let reply = try await s.call(command)
                let rows = reply.elements
                switch output.chosen {
                case .json: Terminal.write(JSONValue(reply).render() + "\n")
                case .csv:
                    Terminal.write(CSVText.render(header: ["workflow", "state", "entered", "median_s", "p90_s"], rows: rows.map {
                        [$0.text("workflow"), $0.text("state"), $0.text("entered"), $0.text("median_s"), $0.text("p90_s")]
                    }))
                case .table:
                    var table = Table("WORKFLOW", "STATE", "ENTERED", "MEDIAN", "P90", right: ["ENTERED", "MEDIAN", "P90"])
                    for row in rows {
                        func time(_ key: String) -> Table.Cell {
                            guard let s = row[key]?.doubleValue else { return .init("—", .dim) }
                            return .init(When.duration(s))
                        }
                        table.add([.init(row.text("workflow")), .init(row.text("state")), .init(row.text("entered")), time("median_s"), time("p90_s")])
                    }
                    Terminal.write(rows.isEmpty ? "no items yet\n" : table.render())
                }
            }
        }
    }
}
