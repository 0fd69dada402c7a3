import ArgumentParser
import DocketWire
import Foundation

/// The filters ITEM.LIST takes.
struct ItemFilterOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Only this workflow (paper, project, application or a name).", valueName: "name"))
    var workflow: String?

    @Option(help: ArgumentHelp("Only items in this state.", valueName: "state"))
    var state: String?

    @Option(help: ArgumentHelp("Only this theme.", valueName: "slug"))
    var theme: String?

    @Option(help: ArgumentHelp("Only this working group.", valueName: "slug"))
    var group: String?

    var arguments: [String] {
        var args: [String] = []
        if let workflow { args += ["WORKFLOW", WorkflowKind.workflow(workflow)] }
        if let state { args += ["STATE", state] }
        if let theme { args += ["THEME", theme] }
        if let group { args += ["GROUP", group] }
        return args
    }
}

/// Prints item maps as a table, CSV or JSON.
enum ItemListing {
    static let csvHeader = ["id", "workflow", "state", "theme", "group", "title", "author", "version", "created_at", "state_since", "due_at", "final"]

    static func print(_ items: [RESPValue], as format: ReportFormat, showWorkflow: Bool = true) {
        switch format {
        case .json:
            Terminal.write(JSONValue(.array(items)).render() + "\n")
        case .csv:
            Terminal.write(CSVText.render(header: csvHeader, rows: items.map { item in csvHeader.map { item.text($0) } }))
        case .table:
            let now = Date()
            var columns: [Table.Column] = [.init(title: "ID")]
            if showWorkflow { columns.append(.init(title: "WORKFLOW")) }
            columns += [.init(title: "STATE"), .init(title: "THEME"), .init(title: "GROUP"), .init(title: "TITLE", maxWidth: 50), .init(title: "DUE")]
            var table = Table(columns)
            for item in items {
                var cells: [Table.Cell] = [.init(item.text("id"), .bold)]
                if showWorkflow { cells.append(.init(item.text("workflow"))) }
                cells += [.init(item.text("state"), item.flag("final") ? .dim : nil), .init(item.text("theme")), .init(item.text("group")),
                          .init(item.text("title")), item.flag("final") ? .init("") : When.due(item.optionalText("due_at"), now: now)]
                table.add(cells)
            }
            Terminal.write(table.render())
        }
    }
}

struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List items, oldest first, with filters.",
        discussion: """
            Shows at most --limit items; the next page starts --after the last id shown.

            Example: docket list --workflow paper --state peer-review
            Example: docket list --theme gender-equity --overdue
            Example: docket list --waiting bruno --format csv
            """
    )

    @OptionGroup var filter: ItemFilterOptions

    @Flag(help: "Only items past their due time.")
    var overdue = false

    @Option(help: ArgumentHelp("Only items waiting on this user.", valueName: "user"))
    var waiting: String?

    @Option(help: ArgumentHelp("At most this many items (1-10000).", valueName: "n"))
    var limit = 100

    @Option(help: ArgumentHelp("Start after this item id (next page).", valueName: "id"))
    var after: String?

    @OptionGroup var output: ReportOutputOptions
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        var args = ["ITEM.LIST"] + filter.arguments
        if overdue { args.append("OVERDUE") }
        if let waiting { args += ["WAITING", waiting] }
        args += ["LIMIT", String(limit)]
        if let after { args += ["AFTER", after] }
        let command = args
        try await connection.withSession { s in
            let items = try await s.call(command).elements
            if items.isEmpty, output.chosen == .table {
                Terminal.write("no items match\n")
                return
            }
            ItemListing.print(items, as: output.chosen, showWorkflow: filter.workflow == nil)
            if items.count == limit, output.chosen == .table, let last = items.last {
                Terminal.writeError("(\(limit) shown; next page: add --after \(last.text("id")))\n")
            }
        }
    }
}

struct OverdueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "overdue",
        abstract: "Items past their due time, oldest first.",
        discussion: """
            Example: docket overdue
            Example: docket overdue --theme sustainability --format csv
            """
    )

    @OptionGroup var filter: ItemFilterOptions

    @Option(help: ArgumentHelp("At most this many items.", valueName: "n"))
    var limit = 1000

    @OptionGroup var output: ReportOutputOptions
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let command = ["ITEM.LIST"] + filter.arguments + ["OVERDUE", "LIMIT", String(limit)]
        try await connection.withSession { s in
            let items = try await s.call(command).elements
            if items.isEmpty, output.chosen == .table {
                Terminal.write("nothing is overdue\n")
                return
            }
            ItemListing.print(items, as: output.chosen, showWorkflow: filter.workflow == nil)
        }
    }
}
