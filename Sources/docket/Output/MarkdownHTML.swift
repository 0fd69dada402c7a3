/// A small Markdown to HTML converter for exported papers: ATX headings, paragraphs,
/// bullet and numbered lists, block quotes, fenced code, rules; inline code, bold, italics
/// and links. Everything else is escaped text.
enum MarkdownHTML {
    static func escape(_ s: String) -> String {
        var out = ""
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default: out.append(ch)
            }
        }
        return out
    }

    /// The HTML of `markdown`; its highest heading becomes `<h\(topLevel)>`.
    static func render(_ markdown: String, topLevel: Int = 2) -> String {
        let levels = markdown.split(separator: "\n").compactMap { heading($0.trimmingCharacters(in: .whitespaces)) }
        let shift = topLevel - (levels.min() ?? 1)
        var out: [String] = []
        var paragraph: [String] = []
        var list: (tag: String, items: [String])?
        var quote: [String] = []
        var code: [String]?

        func flushParagraph() {
            if !paragraph.isEmpty { out.append("<p>" + inline(paragraph.joined(separator: " ")) + "</p>") }
            paragraph = []
        }
        func flushList() {
            if let l = list { out.append("<\(l.tag)>" + l.items.map { "<li>\(inline($0))</li>" }.joined() + "</\(l.tag)>") }
            list = nil
        }
        func flushQuote() {
            if !quote.isEmpty { out.append("<blockquote>" + render(quote.joined(separator: "\n"), topLevel: topLevel + 1) + "</blockquote>") }
            quote = []
        }
        func flushAll() { flushParagraph(); flushList(); flushQuote() }

        for raw in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = String(raw)
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if var block = code {
                if trimmed.hasPrefix("```") {
                    out.append("<pre><code>" + escape(block.joined(separator: "\n")) + "</code></pre>")
                    code = nil
                } else {
                    block.append(line)
                    code = block
                }
                continue
            }
            if trimmed.hasPrefix("```") { flushAll(); code = []; continue }
            if trimmed.hasPrefix(">") {
                flushParagraph(); flushList()
                quote.append(String(trimmed.dropFirst()).trimmingCharacters(in: .whitespaces))
                continue
            }
            flushQuote()
            if trimmed.isEmpty { flushParagraph(); flushList(); continue }
            if let level = heading(trimmed) {
                flushAll()
                let text = trimmed.dropFirst(level).trimmingCharacters(in: .whitespaces)
                let tag = "h\(min(6, max(1, level + shift)))"
                out.append("<\(tag)>\(inline(text))</\(tag)>")
                continue
            }
            if trimmed == "---" || trimmed == "***" || trimmed == "___" { flushAll(); out.append("<hr>"); continue }
            if let item = bullet(trimmed) {
                flushParagraph()
                if list?.tag != "ul" { flushList(); list = ("ul", []) }
                list?.items.append(item)
                continue
            }
            if let item = numbered(trimmed) {
                flushParagraph()
                if list?.tag != "ol" { flushList(); list = ("ol", []) }
                list?.items.append(item)
                continue
            }
            if list != nil, line.hasPrefix("  "), var l = list, !l.items.isEmpty {
                l.items[l.items.count - 1] += " " + trimmed
                list = l
                continue
            }
            flushList()
            paragraph.append(trimmed)
        }
        if let block = code { out.append("<pre><code>" + escape(block.joined(separator: "\n")) + "</code></pre>") }
        flushAll()
        return out.joined(separator: "\n")
    }

    /// The heading level of `# ...` lines (1-6).
    static func heading(_ line: String) -> Int? {
        let hashes = line.prefix { $0 == "#" }.count
        guard (1...6).contains(hashes), line.dropFirst(hashes).first == " " else { return nil }
        return hashes
    }

    static func bullet(_ line: String) -> String? {
        for marker in ["- ", "* ", "+ "] where line.hasPrefix(marker) { return String(line.dropFirst(2)) }
        return nil
    }

    static func numbered(_ line: String) -> String? {
        let digits = line.prefix { $0.isASCII && $0.isNumber }
        guard !digits.isEmpty, digits.count <= 9 else { return nil }
        let rest = line.dropFirst(digits.count)
        guard rest.hasPrefix(". ") || rest.hasPrefix(") ") else { return nil }
        return String(rest.dropFirst(2))
    }

    /// Inline markup over escaped text: `code`, **bold**, *italic* / _italic_, [text](url).
    static func inline(_ text: String) -> String {
        var out = ""
        var rest = Substring(text)
        while let ch = rest.first {
            if ch == "`", let end = rest.dropFirst().firstIndex(of: "`") {
                out += "<code>" + escape(String(rest[rest.index(after: rest.startIndex)..<end])) + "</code>"
                rest = rest[rest.index(after: end)...]
            } else if rest.hasPrefix("**"), let end = rest.dropFirst(2).range(of: "**") {
                out += "<strong>" + inline(String(rest[rest.index(rest.startIndex, offsetBy: 2)..<end.lowerBound])) + "</strong>"
                rest = rest[end.upperBound...]
            } else if ch == "*" || ch == "_", let end = rest.dropFirst().firstIndex(of: ch), end > rest.index(after: rest.startIndex) {
                out += "<em>" + inline(String(rest[rest.index(after: rest.startIndex)..<end])) + "</em>"
                rest = rest[rest.index(after: end)...]
            } else if ch == "[", let close = rest.firstIndex(of: "]"), rest[rest.index(after: close)...].hasPrefix("("),
                      let paren = rest[close...].firstIndex(of: ")") {
                let label = String(rest[rest.index(after: rest.startIndex)..<close])
                let url = String(rest[rest.index(close, offsetBy: 2)..<paren])
                let safe = url.hasPrefix("http://") || url.hasPrefix("https://") || url.hasPrefix("mailto:") || url.hasPrefix("#") || url.hasPrefix("/")
                out += safe ? "<a href=\"\(escape(url))\">\(inline(label))</a>" : inline(label)
                rest = rest[rest.index(after: paren)...]
            } else {
                out += escape(String(ch))
                rest = rest.dropFirst()
            }
        }
        return out
    }
}
