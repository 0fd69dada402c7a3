import ArgumentParser
import DocketWire

/// `--json` for commands that print one reply.
struct OutputOptions: ParsableArguments {
    @Flag(help: "Print the reply as JSON instead of text.")
    var json = false

    /// Prints `value` as JSON when `--json` was given; returns whether it did.
    func printJSON(_ value: @autoclosure () -> JSONValue) -> Bool {
        guard json else { return false }
        Terminal.write(value().render() + "\n")
        return true
    }
}

/// How a report prints: an aligned table, CSV, or JSON.
enum ReportFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case table, csv, json
}

/// `--format table|csv|json` and `--json` for reports.
struct ReportOutputOptions: ParsableArguments {
    @Flag(help: "Print the reply as JSON (same as --format json).")
    var json = false

    @Option(help: ArgumentHelp("table, csv or json.", valueName: "format"))
    var format: ReportFormat = .table

    var chosen: ReportFormat { json ? .json : format }
}
