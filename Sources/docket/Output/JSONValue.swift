import DocketCore
import DocketWire
import Foundation

/// JSON as printed by `--json`: objects keep the order of the server's maps.
indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    static func == (a: JSONValue, b: JSONValue) -> Bool { a.render() == b.render() }

    /// A reply as JSON: maps become objects, RESP2 flat arrays stay arrays, errors become
    /// `{"error": "..."}`.
    init(_ value: RESPValue) {
        switch value {
        case .simpleString(let s): self = .string(s)
        case .error(let s): self = .object([("error", .string(s))])
        case .integer(let i): self = .int(i)
        case .bulkString, .verbatim: self = .string(value.string ?? "")
        case .null, .nullArray: self = .null
        case .array(let a), .set(let a), .push(let a): self = .array(a.map(JSONValue.init))
        case .map(let pairs): self = .object(pairs.map { (JSONValue.key($0.0), JSONValue($0.1)) })
        case .double(let d): self = .double(d)
        case .boolean(let b): self = .bool(b)
        case .bigNumber(let text): self = Int64(text).map { .int($0) } ?? .string(text)
        }
    }

    private static func key(_ value: RESPValue) -> String {
        switch value {
        case .integer(let i): return String(i)
        case .double(let d): return String(d)
        case .boolean(let b): return b ? "true" : "false"
        default: return value.string ?? String(describing: value)
        }
    }

    /// The JSON text, indented by two spaces, ending without a newline.
    func render(indent: Int = 0) -> String {
        let pad = String(repeating: "  ", count: indent + 1)
        let close = String(repeating: "  ", count: indent)
        switch self {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d):
            guard d.isFinite else { return "null" }
            if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
            return String(d)
        case .string(let s): return JSONText.quoted(s)
        case .array(let a):
            if a.isEmpty { return "[]" }
            return "[\n" + a.map { pad + $0.render(indent: indent + 1) }.joined(separator: ",\n") + "\n\(close)]"
        case .object(let pairs):
            if pairs.isEmpty { return "{}" }
            return "{\n" + pairs.map { pad + JSONText.quoted($0.0) + ": " + $0.1.render(indent: indent + 1) }.joined(separator: ",\n") + "\n\(close)}"
        }
    }

    /// The JSON text on one line, for streams of events (one object per line).
    func renderCompact() -> String {
        switch self {
        case .array(let a): return "[" + a.map { $0.renderCompact() }.joined(separator: ",") + "]"
        case .object(let pairs): return "{" + pairs.map { JSONText.quoted($0.0) + ":" + $0.1.renderCompact() }.joined(separator: ",") + "}"
        default: return render()
        }
    }
}
