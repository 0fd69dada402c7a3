import DocketWire

/// Prints a LIST reply (array of maps) as a table, CSV or JSON, with the given columns.
enum DirectoryListing {
    static func print(_ reply: RESPValue, columns: [String], as format: ReportFormat, empty: String) {
        let rows = reply.elements
        switch format {
        case .json:
            Terminal.write(JSONValue(reply).render() + "\n")
        case .csv:
            Terminal.write(CSVText.render(header: columns, rows: rows.map { row in
                columns.map { key in row[key]?.arrayValue.map { $0.map(\.displayText).joined(separator: " ") } ?? row.text(key) }
            }))
        case .table:
            if rows.isEmpty {
                Terminal.write(empty + "\n")
                return
            }
            var table = Table(columns.map { .init(title: $0.uppercased(), maxWidth: 60) })
            for row in rows {
                table.add(columns.enumerated().map { i, key in .init(row.text(key), i == 0 ? .bold : nil) })
            }
            Terminal.write(table.render())
        }
    }
}
