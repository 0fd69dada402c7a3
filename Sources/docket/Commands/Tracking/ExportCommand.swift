import ArgumentParser
import DocketClient
import DocketWire
import Foundation

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Export an adopted paper with its endorsements, ready to publish (Markdown or HTML).",
        discussion: """
            Writes the title, summary, the latest revision of the text and the list of member
            governments that endorsed it. Items not yet in a final state are refused unless
            --draft is given (the export is then marked as a draft).

            Example: docket export PP-4 --format html --output green-procurement.html
            Example: docket export PP-4 > green-procurement.md
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case md, html
    }

    @Argument(help: "Item id.")
    var id: String

    @Option(help: "md or html.")
    var format: Format = .md

    @Option(help: ArgumentHelp("Write to this file instead of standard output.", valueName: "file"))
    var output: String?

    @Flag(help: "Export an item that is not final yet, marked as a draft.")
    var draft = false

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        try await connection.withSession { s in
            let r = try await s.client.pipeline([["ITEM.GET", id], ["ENDORSE.LIST", id], ["ITEM.TEXT", id]])
            for reply in r.prefix(2) { if case .error(let line) = reply { throw ServerError(line: line) } }
            let item = r[0]
            guard item.flag("final") || draft else {
                throw CLIFailure(.invalid, "\(id) is in \(item.text("state")), not adopted yet",
                                 hint: "export publishes adopted items; pass --draft to export it marked as a draft")
            }
            let body: String? = if case .error = r[2] { nil } else { r[2].stringValue }
            let paper = ExportedPaper(item: item, endorsements: r[1].elements, body: body, draft: !item.flag("final"))
            let text = format == .md ? paper.markdown() : paper.html()
            if let output {
                guard FileManager.default.createFile(atPath: output, contents: Data(text.utf8)) else {
                    throw CLIFailure(.failure, "cannot write \(output)", hint: "check that its directory exists and is writable")
                }
                Terminal.writeError("wrote \(output)\n")
            } else {
                Terminal.write(text)
            }
        }
    }
}

/// An item laid out for publication.
struct ExportedPaper {
    var item: RESPValue
    var endorsements: [RESPValue]
    var body: String?
    var draft: Bool

    /// When the item reached its current state.
    var decidedAt: String { When.day(item.optionalText("state_since")) }

    var stateTitle: String { item.text("state") }

    var subtitle: String {
        var parts = ["\(item.text("id"))", draft ? "DRAFT, not adopted (\(stateTitle))" : "\(stateTitle) on \(decidedAt)"]
        if let group = item.optionalText("group") { parts.append("working group \(group)") }
        if let theme = item.optionalText("theme") { parts.append("theme \(theme)") }
        return parts.joined(separator: " · ")
    }

    var fields: [String: RESPValue] { item["fields"]?.mapValue ?? [:] }

    /// The document without a first-line `# Title` that repeats the title.
    var text: String? {
        guard let body else { return nil }
        let lines = body.split(separator: "\n", omittingEmptySubsequences: false)
        guard let first = lines.first, first.hasPrefix("# ") else { return body }
        return lines.dropFirst().drop { $0.trimmingCharacters(in: .whitespaces).isEmpty }.joined(separator: "\n")
    }

    func markdown() -> String {
        var out = "# \(item.text("title"))\n\n*\(subtitle)*\n\n"
        if let summary = fields["summary"]?.stringValue, !summary.isEmpty { out += "> \(summary)\n\n" }
        if let text, !text.isEmpty { out += text.hasSuffix("\n") ? text : text + "\n" }
        out += "\n## Endorsements\n\n"
        if endorsements.isEmpty {
            out += "No member government has endorsed this text.\n"
        } else {
            out += "Endorsed by \(endorsements.count) member government\(endorsements.count == 1 ? "" : "s"):\n\n"
            out += "| Member | Endorsed by | Date | Comment |\n|---|---|---|---|\n"
            for e in endorsements {
                let cells = [e.text("name"), e.text("by"), When.day(e.optionalText("at")), e.text("comment")]
                out += "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ") }.joined(separator: " | ") + " |\n"
            }
        }
        return out
    }

    func html() -> String {
        let e = MarkdownHTML.escape
        var out = """
            <!DOCTYPE html>
            <html>
            <head>
            <meta charset="utf-8">
            <title>\(e(item.text("title")))</title>
            <style>body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;line-height:1.5}\
            .meta{color:#555}blockquote{border-left:3px solid #999;margin-left:0;padding-left:1rem;color:#333}\
            table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}</style>
            </head>
            <body>
            <article>
            <h1>\(e(item.text("title")))</h1>
            <p class="meta">\(e(subtitle))</p>

            """
        if let summary = fields["summary"]?.stringValue, !summary.isEmpty { out += "<blockquote><p>\(e(summary))</p></blockquote>\n" }
        if let text, !text.isEmpty { out += MarkdownHTML.render(text) + "\n" }
        out += "<section class=\"endorsements\">\n<h2>Endorsements</h2>\n"
        if endorsements.isEmpty {
            out += "<p>No member government has endorsed this text.</p>\n"
        } else {
            out += "<p>Endorsed by \(endorsements.count) member government\(endorsements.count == 1 ? "" : "s"):</p>\n"
            out += "<table>\n<tr><th>Member</th><th>Endorsed by</th><th>Date</th><th>Comment</th></tr>\n"
            for en in endorsements {
                out += "<tr><td>\(e(en.text("name")))</td><td>\(e(en.text("by")))</td><td>\(e(When.day(en.optionalText("at"))))</td><td>\(e(en.text("comment")))</td></tr>\n"
            }
            out += "</table>\n"
        }
        out += "</section>\n</article>\n</body>\n</html>\n"
        return out
    }
}
