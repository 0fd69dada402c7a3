/// Finds YAML anchors (`&name`) and aliases (`*name`) in a text before it is parsed.
///
/// A workflow definition has no use for aliases, and they are dangerous: ten lines of
/// aliases to aliases stand for a tree of 10^12 nodes ("billion laughs"), and the YAML
/// library hashes every mapping key while composing, so one such alias used as a key never
/// finishes. `WorkflowParser` refuses any alias before the text reaches the YAML library.
///
/// The scan follows YAML's lexical structure closely enough to tell a node property from
/// text: it skips comments, single- and double-quoted scalars (also over several lines),
/// block scalars (`|`, `>`) and the inside of plain scalars (`title: R&D *draft*` holds
/// neither), and looks for `&` and `*` only where a node may begin. Where it is unsure it
/// errs towards reporting, so text it calls clean has no alias (the tests check this
/// against the YAML library on fuzzed input).
public enum YAMLAliasScanner {
    public struct Mark: Sendable, Hashable {
        /// 1-based, like the YAML library's marks and `Diagnostic`.
        public var line: Int
        public var column: Int
        public init(line: Int, column: Int) {
            self.line = line
            self.column = column
        }
    }

    /// The first alias, if any.
    public static func firstAlias(in text: String) -> Mark? {
        scan(text, stopAtFirstAlias: true).aliases.first
    }

    /// Every anchor and alias found (for tests).
    public static func properties(in text: String) -> (anchors: [Mark], aliases: [Mark]) {
        scan(text, stopAtFirstAlias: false)
    }

    static func scan(_ text: String, stopAtFirstAlias: Bool) -> (anchors: [Mark], aliases: [Mark]) {
        var anchors: [Mark] = []
        var aliases: [Mark] = []
        let bytes = Array(text.utf8)
        let lines = splitLines(bytes)
        var flowDepth = 0
        var quote: Unicode.Scalar?     // inside a quoted scalar that continues on the next line
        var blockParentIndent: Int?    // the header line's indentation while skipping a block scalar
        var blockContentIndent: Int?
        var tokenStart = true          // where a node (and so a property) may begin

        for (lineIndex, range) in lines.enumerated() {
            let line = bytes[range]
            func mark(_ i: Int) -> Mark {
                // Columns count characters: skip UTF-8 continuation bytes.
                Mark(line: lineIndex + 1, column: line.prefix(i).filter { $0 & 0xC0 != 0x80 }.count + 1)
            }
            let indent = line.prefix { $0 == UInt8(ascii: " ") }.count
            let blank = line.allSatisfy { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
            if let parent = blockParentIndent {
                if blank { continue }
                if blockContentIndent == nil, indent > parent { blockContentIndent = indent }
                if let content = blockContentIndent, indent >= content { continue }
                blockParentIndent = nil
                blockContentIndent = nil
            }
            // Every line may start a node (in flow context too: reporting more is safe).
            if quote == nil { tokenStart = true }
            /// Where the last scalar on this line began: a block scalar's parent indentation.
            var lastScalarColumn = indent
            var i = 0
            func at(_ k: Int) -> Unicode.Scalar? { k < line.count ? Unicode.Scalar(line[line.startIndex + k]) : nil }
            func isBlank(_ s: Unicode.Scalar?) -> Bool { s == nil || s == " " || s == "\t" }
            func isFlowIndicator(_ s: Unicode.Scalar?) -> Bool { s == "," || s == "[" || s == "]" || s == "{" || s == "}" }
            // `---` and `...` at the start of a line end a document; a node may follow `---`.
            if quote == nil, line.count >= 3, isBlank(at(3)),
               (at(0) == "-" && at(1) == "-" && at(2) == "-") || (at(0) == "." && at(1) == "." && at(2) == ".") {
                i = 3
                flowDepth = 0
            }
            lineLoop: while i < line.count {
                let c = at(i)!
                if let q = quote {
                    if q == "\"" {
                        if c == "\\" { i += 2; continue }
                        if c == "\"" { quote = nil; tokenStart = false }
                    } else if c == "'" {
                        if at(i + 1) == "'" { i += 2; continue }
                        quote = nil
                        tokenStart = false
                    }
                    i += 1
                    continue
                }
                if tokenStart {
                    if c == " " || c == "\t" || c == "," {
                        i += 1
                    } else if c == "*" {
                        aliases.append(mark(i))
                        if stopAtFirstAlias { return (anchors, aliases) }
                        i = skipName(line, from: i + 1)
                        tokenStart = false
                    } else if c == "&" || c == "!" {
                        if c == "&" { anchors.append(mark(i)) }
                        // A property: the node itself may follow.
                        i = skipName(line, from: i + 1)
                    } else if (c == "-" || c == "?" || c == ":") && (isBlank(at(i + 1)) || (flowDepth > 0 && isFlowIndicator(at(i + 1)))) {
                        i += 1
                    } else if c == "[" || c == "{" {
                        flowDepth += 1
                        i += 1
                    } else if c == "]" || c == "}" {
                        flowDepth = max(0, flowDepth - 1)
                        tokenStart = false
                        i += 1
                    } else if c == "\"" || c == "'" {
                        quote = c
                        lastScalarColumn = i
                        i += 1
                    } else if c == "#" && (i == 0 || isBlank(at(i - 1))) {
                        break lineLoop
                    } else if (c == "|" || c == ">") && flowDepth == 0 {
                        blockParentIndent = lastScalarColumn
                        break lineLoop
                    } else {
                        // A plain scalar starts here.
                        tokenStart = false
                        lastScalarColumn = i
                        i += 1
                    }
                    continue
                }
                // Inside a plain scalar, or after a quoted scalar or a flow collection.
                if c == ":" && (isBlank(at(i + 1)) || flowDepth > 0) {
                    tokenStart = true
                } else if c == "#" && i > 0 && isBlank(at(i - 1)) {
                    break lineLoop
                } else if flowDepth > 0 && (c == "," || c == "[" || c == "{") {
                    if c != "," { flowDepth += 1 }
                    tokenStart = true
                } else if flowDepth > 0 && (c == "]" || c == "}") {
                    flowDepth -= 1
                }
                i += 1
            }
        }
        return (anchors, aliases)
    }

    /// The index (from the line's start) after an anchor, alias or tag name.
    static func skipName(_ line: ArraySlice<UInt8>, from start: Int) -> Int {
        var i = start
        while line.startIndex + i < line.endIndex {
            let b = line[line.startIndex + i]
            if b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") || b == UInt8(ascii: ",") || b == UInt8(ascii: "[") || b == UInt8(ascii: "]")
                || b == UInt8(ascii: "{") || b == UInt8(ascii: "}") { break }
            i += 1
        }
        return i
    }

    /// The lines, as ranges of `bytes`, broken as YAML breaks them: at `\n`, `\r\n`, a lone
    /// `\r`, NEL, LS and PS.
    static func splitLines(_ bytes: [UInt8]) -> [Range<Int>] {
        var lines: [Range<Int>] = []
        var start = 0
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            var breakLength = 0
            if b == UInt8(ascii: "\n") {
                breakLength = 1
            } else if b == UInt8(ascii: "\r") {
                breakLength = i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "\n") ? 2 : 1
            } else if b == 0xC2, i + 1 < bytes.count, bytes[i + 1] == 0x85 {
                breakLength = 2   // NEL
            } else if b == 0xE2, i + 2 < bytes.count, bytes[i + 1] == 0x80, bytes[i + 2] == 0xA8 || bytes[i + 2] == 0xA9 {
                breakLength = 3   // LS, PS
            }
            if breakLength > 0 {
                lines.append(start..<i)
                i += breakLength
                start = i
            } else {
                i += 1
            }
        }
        lines.append(start..<bytes.count)
        return lines
    }
}
