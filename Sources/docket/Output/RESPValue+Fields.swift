import DocketClient
import DocketWire

/// Short reads of reply maps for printing.
extension RESPValue {
    /// The text of `key` ("" when missing or null); integers and booleans as text.
    func text(_ key: String) -> String {
        guard let v = self[key] else { return "" }
        return v.displayText
    }

    /// The value as a short text: strings as they are, numbers in decimal, null as "".
    var displayText: String {
        if let s = stringValue { return s }
        if case .boolean(let b) = self { return b ? "yes" : "no" }
        if case .double(let d) = self { return d == d.rounded() ? String(Int64(d)) : String(d) }
        if let i = intValue { return String(i) }
        if let a = arrayValue { return a.map(\.displayText).joined(separator: ", ") }
        return ""
    }

    /// The string of `key`, or nil when missing or null.
    func optionalText(_ key: String) -> String? {
        guard let v = self[key], !v.isNull else { return nil }
        let t = v.displayText
        return t.isEmpty ? nil : t
    }

    func int(_ key: String) -> Int { self[key]?.intValue ?? 0 }

    func list(_ key: String) -> [RESPValue] { self[key]?.arrayValue ?? [] }

    func flag(_ key: String) -> Bool { self[key]?.boolValue ?? false }

    /// The elements of an array reply (empty for anything else).
    var elements: [RESPValue] { arrayValue ?? [] }
}
