import NIOCore

extension RESPValue: CustomStringConvertible {
    /// A compact one-line rendering, e.g. `["GET", :1, {"k": +OK}, (nil)]`.
    ///
    /// Bulk strings are quoted with non-printable bytes escaped as `\xHH`,
    /// simple strings are prefixed `+`, errors `-`, integers `:`. RESP3 types
    /// are tagged: `(double) 1.5`, `(true)`, `(big) 123`, `(txt) "..."`,
    /// `~[...]` for sets and `>[...]` for pushes.
    public var description: String {
        switch self {
        case .simpleString(let s): return "+" + s
        case .error(let s): return "-" + s
        case .integer(let i): return ":\(i)"
        case .bulkString(let b): return Self.quoted(b.readableBytesView)
        case .null: return "(nil)"
        case .nullArray: return "(nil array)"
        case .array(let a): return "[" + a.map(\.description).joined(separator: ", ") + "]"
        case .map(let pairs):
            return "{" + pairs.map { "\($0.0.description): \($0.1.description)" }.joined(separator: ", ") + "}"
        case .set(let a): return "~[" + a.map(\.description).joined(separator: ", ") + "]"
        case .double(let d): return "(double) \(RESPEncoder.format(d))"
        case .boolean(let b): return b ? "(true)" : "(false)"
        case .bigNumber(let s): return "(big) " + s
        case .verbatim(let format, let text): return "(\(format)) " + Self.quoted(Array(text.utf8))
        case .push(let a): return ">[" + a.map(\.description).joined(separator: ", ") + "]"
        }
    }

    static func quoted(_ bytes: some Sequence<UInt8>) -> String {
        var out = "\""
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\""): out += "\\\""
            case UInt8(ascii: "\\"): out += "\\\\"
            case UInt8(ascii: "\n"): out += "\\n"
            case UInt8(ascii: "\r"): out += "\\r"
            case UInt8(ascii: "\t"): out += "\\t"
            case 0x20..<0x7F: out.unicodeScalars.append(UnicodeScalar(byte))
            default: out += RESPProtocolError.printable(byte)
            }
        }
        return out + "\""
    }
}
