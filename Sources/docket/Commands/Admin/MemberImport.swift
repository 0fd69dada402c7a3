import ArgumentParser
import DocketWire
import Foundation

struct MemberImport: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import member governments from a CSV file.",
        discussion: """
            The first line names the columns: slug and name are required, kind, country and
            section optional (slug,name,kind,country,section). Every good row is imported; each
            bad row is reported on stderr with its line number (FILE:LINE: reason). Exits 0 when
            every row was imported, 65 when some were refused. Shows a progress bar when stderr
            is a terminal.

            Example: docket member import members.csv
            Example: docket member import members.csv --dry-run
            """
    )

    static let columns = ["slug", "name", "kind", "country", "section"]
    static let kinds = ["city", "region", "metropolis", "association", "other"]

    @Argument(help: ArgumentHelp("CSV file, or - for standard input.", valueName: "file"))
    var file: String

    @Flag(name: .customLong("dry-run"), help: "Check the file without importing anything.")
    var dryRun = false

    @OptionGroup var output: OutputOptions
    @OptionGroup var connection: ConnectionOptions

    struct Row: Sendable {
        var line: Int
        var command: [String]
        var slug: String
    }

    struct Problem: Sendable {
        var line: Int
        var message: String
    }

    func run() async throws {
        let text = try await reporting { try ReviseCommand.read(file) }
        let (rows, problems) = try await reporting { try Self.parse(text, file: file) }
        var errors = problems
        var imported = 0
        if !dryRun, !rows.isEmpty {
            try await connection.withSession { s in
                let progress = Progress(total: rows.count, enabled: Terminal.stderrIsTTY && !output.json)
                var done = 0
                for batch in stride(from: 0, to: rows.count, by: 20).map({ Array(rows[$0..<min($0 + 20, rows.count)]) }) {
                    let replies = try await s.client.pipeline(batch.map(\.command))
                    for (row, reply) in zip(batch, replies) {
                        if case .error(let line) = reply {
                            let message = line.contains("already exists") ? "member \(row.slug) already exists" : line
                            errors.append(Problem(line: row.line, message: message))
                        } else {
                            imported += 1
                        }
                    }
                    done += batch.count
                    progress.update(done)
                }
                progress.finish()
            }
        }
        errors.sort { $0.line < $1.line }
        if output.json {
            Terminal.write(JSONValue.object([
                ("file", .string(file)), ("rows", .int(Int64(rows.count + problems.count))),
                ("imported", .int(Int64(imported))), ("dry_run", .bool(dryRun)),
                ("errors", .array(errors.map { .object([("line", .int(Int64($0.line))), ("error", .string($0.message))]) })),
            ]).render() + "\n")
        } else {
            for e in errors { Terminal.writeError("\(file):\(e.line): \(e.message)\n") }
            let refused = errors.isEmpty ? "" : "; \(errors.count) row\(errors.count == 1 ? "" : "s") refused (listed above with their line numbers)"
            if dryRun {
                Terminal.write("\(rows.count) row\(rows.count == 1 ? "" : "s") ready to import\(refused)\n")
            } else {
                Terminal.write("imported \(imported) member\(imported == 1 ? "" : "s")\(refused)\n")
            }
        }
        if !errors.isEmpty { throw ExitCode(Exit.invalid) }
    }

    /// MEMBER.ADD for one member.
    static func command(slug: String, name: String, kind: String?, country: String?, section: String?) -> [String] {
        var args = ["MEMBER.ADD", slug, name]
        if let kind, !kind.isEmpty { args += ["KIND", kind] }
        if let country, !country.isEmpty { args += ["COUNTRY", country] }
        if let section, !section.isEmpty { args += ["SECTION", section] }
        return args
    }

    /// The rows to import and the problems found before sending anything. Throws when the
    /// file as a whole is unusable (no header, unknown columns, broken quoting).
    static func parse(_ text: String, file: String) throws -> ([Row], [Problem]) {
        let records: [CSVReader.Record]
        do {
            records = try CSVReader.records(text)
        } catch {
            throw CLIFailure(.invalid, "\(file):\(error.line): \(error.message)", hint: "fix the quoting; nothing was imported")
        }
        guard let header = records.first else {
            throw CLIFailure(.invalid, "\(file) is empty", hint: "the first line names the columns: \(columns.joined(separator: ","))")
        }
        let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        for name in names where !columns.contains(name) {
            throw CLIFailure(.invalid, "\(file):\(header.line): unknown column '\(name)'", hint: "the columns are \(columns.joined(separator: ",")); nothing was imported")
        }
        for required in ["slug", "name"] where !names.contains(required) {
            throw CLIFailure(.invalid, "\(file):\(header.line): no '\(required)' column", hint: "the first line names the columns: \(columns.joined(separator: ","))")
        }
        var rows: [Row] = []
        var problems: [Problem] = []
        var seen: [String: Int] = [:]
        for record in records.dropFirst() {
            guard record.fields.count == names.count else {
                problems.append(Problem(line: record.line, message: "\(record.fields.count) field\(record.fields.count == 1 ? "" : "s"), the header has \(names.count)"))
                continue
            }
            var value: [String: String] = [:]
            for (name, field) in zip(names, record.fields) { value[name] = field.trimmingCharacters(in: .whitespaces) }
            let slug = value["slug"] ?? ""
            let name = value["name"] ?? ""
            let kind = (value["kind"] ?? "").lowercased()
            let country = (value["country"] ?? "").uppercased()
            var why: [String] = []
            if slug.isEmpty {
                why.append("slug is empty")
            } else if !isSlug(slug) {
                why.append("slug '\(slug)' must be lowercase letters, digits and dashes")
            } else if let first = seen[slug] {
                why.append("slug '\(slug)' already on line \(first)")
            }
            if name.isEmpty { why.append("name is empty") }
            if !kind.isEmpty, !kinds.contains(kind) { why.append("kind '\(kind)' is not one of \(kinds.joined(separator: ", "))") }
            if !country.isEmpty, !(country.count == 2 && country.allSatisfy { $0.isASCII && $0.isLetter }) {
                why.append("country '\(value["country"] ?? "")' is not a two-letter ISO 3166 code")
            }
            if !why.isEmpty {
                problems.append(Problem(line: record.line, message: why.joined(separator: "; ")))
                continue
            }
            seen[slug] = record.line
            rows.append(Row(line: record.line, command: command(slug: slug, name: name, kind: kind, country: country, section: value["section"]), slug: slug))
        }
        return (rows, problems)
    }

    static func isSlug(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, ("a"..."z").contains(first) || ("0"..."9").contains(first) else { return false }
        return s.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }
}

/// A progress bar on stderr: `importing [########------------] 120/300`.
struct Progress: Sendable {
    let total: Int
    let enabled: Bool

    init(total: Int, enabled: Bool) {
        self.total = total
        self.enabled = enabled
        update(0)
    }

    func update(_ done: Int) {
        guard enabled, total > 0 else { return }
        let counter = " \(done)/\(total)"
        let width = max(10, min(40, Terminal.width - 14 - counter.count))
        let filled = width * done / total
        Terminal.writeError("\rimporting [" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "]" + counter)
    }

    func finish() {
        guard enabled else { return }
        Terminal.writeError("\r\u{1B}[K")
    }
}
