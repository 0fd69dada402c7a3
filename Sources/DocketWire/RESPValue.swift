import NIOCore

/// A RESP2 or RESP3 value: a reply, or one element of one.
///
/// The same type is used on both sides of the wire: the server builds
/// `RESPValue`s and writes them with ``RESPEncoder``, the client reads them
/// with ``RESPValueParser``. RESP3-only cases are downgraded by the encoder
/// when the connection speaks RESP2 (see ``RESPEncoder/encode(_:as:into:)``).
///
/// Not `indirect`: the recursive cases hold arrays, which are already on the heap, and an
/// indirect enum put every value, each integer and bulk string of a reply, in a box of its own.
public enum RESPValue: Sendable {
    /// A simple string, `+OK`. Must not contain `\r` or `\n` (the encoder
    /// replaces them with spaces).
    case simpleString(String)
    /// An error, `-ERR message`. The whole text, class prefix included.
    case error(String)
    /// A signed 64-bit integer, `:42`.
    case integer(Int64)
    /// A binary-safe bulk string, `$3\r\nfoo`.
    case bulkString(ByteBuffer)
    /// The null value: RESP3 `_`, RESP2 `$-1`.
    case null
    /// The RESP2 null array `*-1`. Only produced when parsing replies.
    case nullArray
    /// An array of values, `*N`.
    case array([RESPValue])
    /// A RESP3 map, `%N`, as ordered key/value pairs. RESP2: flat array.
    case map([(RESPValue, RESPValue)])
    /// A RESP3 set, `~N`. RESP2: array.
    case set([RESPValue])
    /// A RESP3 double, `,1.5`. RESP2: bulk string.
    case double(Double)
    /// A RESP3 boolean, `#t`. RESP2: integer 1 or 0.
    case boolean(Bool)
    /// A RESP3 big number, `(12345678901234567890`. RESP2: bulk string.
    case bigNumber(String)
    /// A RESP3 verbatim string, `=` with a three-letter format such as `txt`
    /// or `mkd`. RESP2: bulk string of `text`.
    case verbatim(format: String, text: String)
    /// A RESP3 out-of-band push, `>N`. RESP2: array.
    case push([RESPValue])
}

extension RESPValue: Hashable {
    /// Structural equality. Maps compare their pairs in order; doubles use
    /// IEEE equality (so `.double(.nan) != .double(.nan)`).
    public static func == (lhs: RESPValue, rhs: RESPValue) -> Bool {
        switch (lhs, rhs) {
        case (.simpleString(let a), .simpleString(let b)): return a == b
        case (.error(let a), .error(let b)): return a == b
        case (.integer(let a), .integer(let b)): return a == b
        case (.bulkString(let a), .bulkString(let b)): return a == b
        case (.null, .null): return true
        case (.nullArray, .nullArray): return true
        case (.array(let a), .array(let b)): return a == b
        case (.map(let a), .map(let b)):
            guard a.count == b.count else { return false }
            for (x, y) in zip(a, b) where x.0 != y.0 || x.1 != y.1 {
                return false
            }
            return true
        case (.set(let a), .set(let b)): return a == b
        case (.double(let a), .double(let b)): return a == b
        case (.boolean(let a), .boolean(let b)): return a == b
        case (.bigNumber(let a), .bigNumber(let b)): return a == b
        case (.verbatim(let f1, let t1), .verbatim(let f2, let t2)): return f1 == f2 && t1 == t2
        case (.push(let a), .push(let b)): return a == b
        default: return false
        }
    }

    /// Hashes the case and its payload, consistently with ``==(_:_:)``.
    public func hash(into hasher: inout Hasher) {
        switch self {
        case .simpleString(let s): hasher.combine(0); hasher.combine(s)
        case .error(let s): hasher.combine(1); hasher.combine(s)
        case .integer(let i): hasher.combine(2); hasher.combine(i)
        case .bulkString(let b): hasher.combine(3); hasher.combine(b)
        case .null: hasher.combine(4)
        case .nullArray: hasher.combine(5)
        case .array(let a): hasher.combine(6); hasher.combine(a)
        case .map(let pairs):
            hasher.combine(7)
            hasher.combine(pairs.count)
            for (k, v) in pairs {
                hasher.combine(k)
                hasher.combine(v)
            }
        case .set(let a): hasher.combine(8); hasher.combine(a)
        case .double(let d): hasher.combine(9); hasher.combine(d)
        case .boolean(let b): hasher.combine(10); hasher.combine(b)
        case .bigNumber(let s): hasher.combine(11); hasher.combine(s)
        case .verbatim(let f, let t): hasher.combine(12); hasher.combine(f); hasher.combine(t)
        case .push(let a): hasher.combine(13); hasher.combine(a)
        }
    }
}

extension RESPValue {
    /// A bulk string holding the UTF-8 bytes of `s`.
    public static func bulk(_ s: String) -> RESPValue {
        .bulkString(ByteBuffer(string: s))
    }

    /// The text of a simple string, bulk string (decoded as UTF-8, invalid
    /// sequences repaired) or verbatim string; `nil` for other cases.
    public var string: String? {
        switch self {
        case .simpleString(let s): return s
        case .bulkString(let b): return String(buffer: b)
        case .verbatim(_, let text): return text
        default: return nil
        }
    }

    /// The value of an integer; `nil` for other cases.
    public var int: Int64? {
        if case .integer(let i) = self { return i }
        return nil
    }

    /// The elements of an array, set or push; `nil` for other cases
    /// (including maps and ``nullArray``).
    public var array: [RESPValue]? {
        switch self {
        case .array(let a), .set(let a), .push(let a): return a
        default: return nil
        }
    }
}

extension RESPValue: ExpressibleByStringLiteral {
    /// A string literal is a bulk string.
    public init(stringLiteral value: String) {
        self = .bulk(value)
    }
}

extension RESPValue: ExpressibleByIntegerLiteral {
    /// An integer literal is an integer.
    public init(integerLiteral value: Int64) {
        self = .integer(value)
    }
}

extension RESPValue: ExpressibleByArrayLiteral {
    /// An array literal is an array.
    public init(arrayLiteral elements: RESPValue...) {
        self = .array(elements)
    }
}
