/// A table printed with aligned columns: header in bold on a terminal, cells optionally
/// coloured, plain text when piped. Numbers are right-aligned.
struct Table: Sendable {
    struct Column: Sendable {
        var title: String
        var alignRight = false
        /// Cells wider than this are cut with an ellipsis (0: never).
        var maxWidth = 0
    }

    struct Cell: Sendable, ExpressibleByStringLiteral {
        var text: String
        var style: Style?
        init(_ text: String, _ style: Style? = nil) {
            self.text = text
            self.style = style
        }
        init(stringLiteral value: String) { self.init(value) }
    }

    var columns: [Column]
    var rows: [[Cell]] = []

    init(_ columns: [Column]) { self.columns = columns }

    init(_ titles: String..., right: Set<String> = []) {
        columns = titles.map { Column(title: $0, alignRight: right.contains($0)) }
    }

    mutating func add(_ cells: [Cell]) { rows.append(cells) }
    mutating func add(_ cells: Cell...) { rows.append(cells) }

    /// The table as text, one line per row, ending with a newline (empty for no columns).
    func render(color: Bool = Terminal.colorEnabled) -> String {
        let shownRows = rows.map { row in
            columns.indices.map { i -> Cell in
                var cell = i < row.count ? row[i] : Cell("")
                if columns[i].maxWidth > 0 { cell.text = DisplayWidth.truncate(cell.text, to: columns[i].maxWidth) }
                return cell
            }
        }
        var widths = columns.map { DisplayWidth.of($0.title) }
        for row in shownRows {
            for (i, cell) in row.enumerated() { widths[i] = max(widths[i], DisplayWidth.of(cell.text)) }
        }
        func line(_ cells: [Cell]) -> String {
            var parts: [String] = []
            for (i, cell) in cells.enumerated() {
                let pad = String(repeating: " ", count: widths[i] - DisplayWidth.of(cell.text))
                let text = cell.style?.apply(cell.text, enabled: color) ?? cell.text
                let last = i == cells.count - 1
                parts.append(columns[i].alignRight ? pad + text : (last ? text : text + pad))
            }
            var text = parts.joined(separator: "  ")
            while text.hasSuffix(" ") { text.removeLast() }
            return text
        }
        let header = line(columns.map { Cell($0.title, .bold) })
        var out = (color ? header : line(columns.map { Cell($0.title) })) + "\n"
        for row in shownRows { out += line(row) + "\n" }
        return out
    }
}
