import DocketWire

/// Helpers to read replies without switching on every case. They accept the
/// RESP2 downgrades of RESP3 types (flat arrays for maps, `0`/`1` for
/// booleans, bulk strings for numbers), so code reads replies the same way
/// whichever protocol the connection speaks.
extension RESPValue {
    /// The text of a simple, bulk or verbatim string; `nil` for other cases.
    public var stringValue: String? { string }

    /// An integer, or a string or big number holding a decimal integer that
    /// fits in `Int`; `nil` otherwise.
    public var intValue: Int? {
        switch self {
        case .integer(let i): return Int(exactly: i)
        case .simpleString, .bulkString, .bigNumber, .verbatim:
            guard let text = string ?? bigNumberText else { return nil }
            return Int(text)
        default: return nil
        }
    }

    /// A double, an integer, or a string holding a number (`1.5`, `inf`);
    /// `nil` otherwise.
    public var doubleValue: Double? {
        switch self {
        case .double(let d): return d
        case .integer(let i): return Double(i)
        case .simpleString, .bulkString, .verbatim, .bigNumber:
            guard let text = string ?? bigNumberText else { return nil }
            return Double(text)
        default: return nil
        }
    }

    /// A boolean, or the integer `0` (`false`) or `1` (`true`); `nil` otherwise.
    public var boolValue: Bool? {
        switch self {
        case .boolean(let b): return b
        case .integer(0): return false
        case .integer(1): return true
        default: return nil
        }
    }

    /// The elements of an array, set or push; `nil` for other cases,
    /// including maps and the null array.
    public var arrayValue: [RESPValue]? { array }

    /// Whether the value is a null (RESP3 `_`, RESP2 `$-1` or `*-1`).
    public var isNull: Bool {
        switch self {
        case .null, .nullArray: return true
        default: return false
        }
    }

    /// The entries of a map keyed by their string keys, from a RESP3 map or
    /// a RESP2 flat array `[k1, v1, k2, v2...]`.
    ///
    /// `nil` unless every key is a string (simple, bulk or verbatim) and, for
    /// arrays, the count is even. When a key repeats the first pair wins, as
    /// with ``subscript(_:)``.
    public var mapValue: [String: RESPValue]? {
        guard let pairs = stringPairs else { return nil }
        return Dictionary(pairs, uniquingKeysWith: { first, _ in first })
    }

    /// The value of the first pair whose key is `key` in a map or in a RESP2
    /// flat array of pairs; `nil` if there is none or the value is not a map.
    public subscript(key: String) -> RESPValue? {
        guard let pairs = stringPairs else { return nil }
        return pairs.first { $0.0 == key }?.1
    }

    /// The map's pairs with string keys, in order; `nil` as for ``mapValue``.
    private var stringPairs: [(String, RESPValue)]? {
        switch self {
        case .map(let pairs):
            var result: [(String, RESPValue)] = []
            result.reserveCapacity(pairs.count)
            for (key, value) in pairs {
                guard let text = key.string else { return nil }
                result.append((text, value))
            }
            return result
        case .array(let elements):
            guard elements.count % 2 == 0 else { return nil }
            var result: [(String, RESPValue)] = []
            result.reserveCapacity(elements.count / 2)
            var i = 0
            while i < elements.count {
                guard let text = elements[i].string else { return nil }
                result.append((text, elements[i + 1]))
                i += 2
            }
            return result
        default:
            return nil
        }
    }

    private var bigNumberText: String? {
        if case .bigNumber(let text) = self { return text }
        return nil
    }
}
