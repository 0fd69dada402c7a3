import ArgumentParser
import DocketCore
import DocketWire
import Foundation

struct ShowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Everything about one item: fields, state, due, reviewers and votes, endorsements, milestones, last events.",
        discussion: """
            Example: docket show PP-4
            Example: docket show PP-4 --json | jq '.endorsements | length'
            """
    )

    @Argument(help: "Item id.")
    var id: String

    @Option(help: ArgumentHelp("How many of the latest events to show.", valueName: "n"))
    var events = 5

    @OptionGroup var output: OutputOptions
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        try await connection.withSession { s in
            let r = try await s.all([["ITEM.GET", id], ["REVIEW.LIST", id], ["ENDORSE.LIST", id], ["MILESTONE.LIST", id], ["ITEM.HISTORY", id]])
            let (item, endorsements, milestones, history) = (r[0], r[2].elements, r[3].elements, r[4].elements)
            // The definition the item runs on says which state reviews; assignments outlive the
            // review round, so outside one an assigned reviewer has nothing pending.
            let source = try? await s.call("WORKFLOW.GET", item.text("workflow"), "VERSION", item.text("workflow_version"))
            let definition = source.flatMap { WorkflowParser.parse($0.text("source")).0 }
            let state = definition?.state(item.text("state"))
            let reviews = r[1].elements.filter { state?.review != nil || $0.optionalText("vote") != nil }
            if output.printJSON(.object([
                ("item", JSONValue(item)), ("reviews", JSONValue(r[1])), ("endorsements", JSONValue(r[2])),
                ("milestones", JSONValue(r[3])), ("history", JSONValue(.array(Array(history.suffix(events))))),
            ])) { return }
            Terminal.write(Self.render(item, state: state, reviews: reviews, endorsements: endorsements, milestones: milestones,
                                       history: Array(history.suffix(events)), totalEvents: history.count))
        }
    }

    static func render(_ item: RESPValue, state definition: StateDefinition?, reviews: [RESPValue], endorsements: [RESPValue],
                       milestones: [RESPValue], history: [RESPValue], totalEvents: Int) -> String {
        let now = Date()
        var out = "\(item.text("id").styled(.bold))  \(item.text("title").styled(.bold))\n"
        var state = item.text("state")
        if let title = definition?.title { state += " — \(title)" }
        if item.flag("final") { state += " (final)" }
        var about: [(String, String)] = [
            ("workflow", "\(item.text("workflow")) v\(item.text("workflow_version"))"),
            ("state", "\(state), since \(When.short(item.optionalText("state_since")))"),
        ]
        if !item.flag("final"), let due = item.optionalText("due_at") {
            about.append(("due", When.due(due, now: now).text.styled(When.isOverdue(due, now: now) ? .red : nil)))
        }
        about += [("theme", item.optionalText("theme") ?? "—"), ("group", item.optionalText("group") ?? "—"),
                  ("author", item.text("author")), ("created", When.short(item.optionalText("created_at"))),
                  ("version", item.text("version"))]
        let transitions = item.list("transitions").map { name -> String in
            let text = name.displayText
            guard let t = definition?.transition(text) else { return text }
            if let after = t.after { return "\(text) (by the scheduler after \(after))" }
            return "\(text) → \(t.to) (\(t.by.map(\.rawValue).joined(separator: ", ")))"
        }
        if !transitions.isEmpty { about.append(("transitions", transitions.joined(separator: "; "))) }
        out += pairs(about)
        if let fields = item["fields"]?.mapValue, !fields.isEmpty {
            out += "\n" + "fields".styled(.bold) + "\n"
            out += pairs(fields.keys.sorted().map { ($0, fields[$0]?.displayText ?? "") })
        }
        if !reviews.isEmpty {
            out += "\n" + "reviewers".styled(.bold) + "\n"
            var table = Table([.init(title: "REVIEWER"), .init(title: "VOTE"), .init(title: "AT"), .init(title: "COMMENT", maxWidth: 60)])
            for review in reviews {
                let vote = review.optionalText("vote")
                let style: Style? = vote == "approve" ? .green : vote == "reject" ? .red : vote == "changes" ? .yellow : .dim
                var shown = vote ?? "not voted"
                if review.flag("stale") { shown += " (stale)" }
                table.add([.init(review.text("reviewer")), .init(shown, review.flag("stale") ? .dim : style),
                           .init(When.short(review.optionalText("at"))), .init(review.text("comment"))])
            }
            out += indent(table.render())
        }
        if !endorsements.isEmpty || item.list("transitions").contains(where: { $0.displayText == "adopt" }) {
            out += "\n" + "endorsements (\(endorsements.count))".styled(.bold) + "\n"
            if !endorsements.isEmpty {
                var table = Table([.init(title: "MEMBER"), .init(title: "BY"), .init(title: "AT"), .init(title: "COMMENT", maxWidth: 60)])
                for e in endorsements {
                    table.add([.init("\(e.text("name")) (\(e.text("member")))"), .init(e.text("by")), .init(When.short(e.optionalText("at"))), .init(e.text("comment"))])
                }
                out += indent(table.render())
            }
        }
        if !milestones.isEmpty {
            let done = milestones.filter { $0.optionalText("done_at") != nil }.count
            out += "\n" + "milestones (\(done) of \(milestones.count) done)".styled(.bold) + "\n"
            var table = Table([.init(title: "#", alignRight: true), .init(title: "TITLE", maxWidth: 50), .init(title: "DUE"), .init(title: "DONE")])
            for m in milestones {
                let doneAt = m.optionalText("done_at")
                table.add([.init(m.text("number")), .init(m.text("title")), .init(When.day(m.optionalText("due"))),
                           doneAt.map { .init("✓ " + When.day($0), .green) } ?? .init("—", .dim)])
            }
            out += indent(table.render())
        }
        if !history.isEmpty {
            let title = totalEvents > history.count ? "last \(history.count) of \(totalEvents) events" : "events"
            out += "\n" + title.styled(.bold) + "\n" + indent(HistoryCommand.table(history).render())
        }
        return out
    }

    static func pairs(_ rows: [(String, String)]) -> String {
        let width = rows.map { DisplayWidth.of($0.0) }.max() ?? 0
        return rows.map { "  " + $0.0.styled(.dim) + String(repeating: " ", count: width - DisplayWidth.of($0.0) + 2) + $0.1 + "\n" }.joined()
    }

    static func indent(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.isEmpty ? "" : "  " + $0 }.joined(separator: "\n")
    }
}

struct HistoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "history",
        abstract: "Every event of an item, oldest first.",
        discussion: """
            Example: docket history PP-4
            Example: docket history PP-4 --json | jq -r '.[] | select(.type == "transition") | .to'
            """
    )

    @Argument(help: "Item id.")
    var id: String

    @OptionGroup var output: ReportOutputOptions
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        try await connection.withSession { s in
            let reply = try await s.call("ITEM.HISTORY", id)
            let events = reply.elements
            switch output.chosen {
            case .json: Terminal.write(JSONValue(reply).render() + "\n")
            case .csv:
                let header = ["seq", "item", "version", "at", "actor", "type", "transition", "from", "to", "comment", "hash"]
                Terminal.write(CSVText.render(header: header, rows: events.map { e in header.map { e.text($0) } }))
            case .table: Terminal.write(Self.table(events).render())
            }
        }
    }

    static func table(_ events: [RESPValue]) -> Table {
        var table = Table([.init(title: "V", alignRight: true), .init(title: "AT"), .init(title: "ACTOR"), .init(title: "EVENT"), .init(title: "COMMENT", maxWidth: 60)])
        for e in events {
            let style: Style? = e.text("type") == "transition" || e.text("type") == "created" ? .cyan : nil
            table.add([.init(e.text("version")), .init(When.short(e.optionalText("at"))), .init(e.text("actor")),
                       .init(EventSummary.what(e), style), .init(e.text("comment"))])
        }
        return table
    }
}
