import NIOCore

/// Writes ``RESPValue``s (replies) and commands (requests) as RESP bytes.
///
/// Replies are written for the connection's ``RESPVersion``. In RESP2 the
/// RESP3-only types are downgraded the way Redis does it:
///
/// | value | RESP3 | RESP2 |
/// | --- | --- | --- |
/// | ``RESPValue/map(_:)`` | `%N` | flat array `*2N` of `k1, v1, k2, v2...` |
/// | ``RESPValue/set(_:)``, ``RESPValue/push(_:)`` | `~N`, `>N` | array `*N` |
/// | ``RESPValue/boolean(_:)`` | `#t` / `#f` | `:1` / `:0` |
/// | ``RESPValue/null`` | `_` | `$-1` |
/// | ``RESPValue/nullArray`` | `_` | `*-1` |
/// | ``RESPValue/double(_:)`` | `,1.5` | bulk string `1.5` |
/// | ``RESPValue/bigNumber(_:)`` | `(123` | bulk string `123` |
/// | ``RESPValue/verbatim(format:text:)`` | `=N\r\ntxt:...` | bulk string of the text |
///
/// Simple strings, errors and big numbers are line-framed, so any `\r` or
/// `\n` in them is replaced by a space.
public enum RESPEncoder {
    /// Appends `value` to `buffer` encoded for `version`.
    public static func encode(_ value: RESPValue, as version: RESPVersion, into buffer: inout ByteBuffer) {
        switch value {
        case .simpleString(let s):
            writeLine(UInt8(ascii: "+"), s, into: &buffer)
        case .error(let s):
            writeLine(UInt8(ascii: "-"), s, into: &buffer)
        case .integer(let i):
            writeHeader(UInt8(ascii: ":"), i, into: &buffer)
        case .bulkString(let bytes):
            writeBulk(bytes.readableBytesView, into: &buffer)
        case .null:
            buffer.writeStaticString(version == .resp3 ? "_\r\n" : "$-1\r\n")
        case .nullArray:
            buffer.writeStaticString(version == .resp3 ? "_\r\n" : "*-1\r\n")
        case .array(let elements):
            writeAggregate(UInt8(ascii: "*"), elements, version, into: &buffer)
        case .set(let elements):
            writeAggregate(UInt8(ascii: version == .resp3 ? "~" : "*"), elements, version, into: &buffer)
        case .push(let elements):
            writeAggregate(UInt8(ascii: version == .resp3 ? ">" : "*"), elements, version, into: &buffer)
        case .map(let pairs):
            if version == .resp3 {
                writeHeader(UInt8(ascii: "%"), Int64(pairs.count), into: &buffer)
            } else {
                writeHeader(UInt8(ascii: "*"), Int64(pairs.count) * 2, into: &buffer)
            }
            for (key, element) in pairs {
                encode(key, as: version, into: &buffer)
                encode(element, as: version, into: &buffer)
            }
        case .double(let d):
            if version == .resp3 {
                writeLine(UInt8(ascii: ","), format(d), into: &buffer)
            } else {
                writeBulk(format(d).utf8, into: &buffer)
            }
        case .boolean(let b):
            if version == .resp3 {
                buffer.writeStaticString(b ? "#t\r\n" : "#f\r\n")
            } else {
                buffer.writeStaticString(b ? ":1\r\n" : ":0\r\n")
            }
        case .bigNumber(let s):
            if version == .resp3 {
                writeLine(UInt8(ascii: "("), s, into: &buffer)
            } else {
                writeBulk(s.utf8, into: &buffer)
            }
        case .verbatim(let format, let text):
            if version == .resp3 {
                let prefix = validVerbatimFormat(format) ? format : "txt"
                writeHeader(UInt8(ascii: "="), Int64(text.utf8.count + 4), into: &buffer)
                buffer.writeString(prefix)
                buffer.writeInteger(UInt8(ascii: ":"))
                buffer.writeString(text)
                buffer.writeStaticString("\r\n")
            } else {
                writeBulk(text.utf8, into: &buffer)
            }
        }
    }

    /// Appends a reply that `body` writes piece by piece, without a ``RESPValue`` first (an
    /// item's map on ITEM.GET's path). `body` runs twice: once to measure, once to write into
    /// space reserved in one go, so a reply of many small pieces pays one capacity check
    /// instead of several per piece. It must make the same calls both times.
    @inlinable
    public static func write(as version: RESPVersion, into buffer: inout ByteBuffer, _ body: (inout RESPRawWriter) -> Void) {
        var measure = RESPRawWriter(version: version, base: nil, capacity: 0)
        body(&measure)
        let size = measure.count
        guard size > 0 else { return }
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { raw in
            var writer = RESPRawWriter(version: version, base: raw.baseAddress!, capacity: raw.count)
            body(&writer)
            precondition(writer.count == size, "a reply wrote other pieces than it measured")
            return size
        }
    }

    /// Appends a request, `*N\r\n` followed by one bulk string per argument,
    /// as clients send them.
    public static func encodeCommand(_ args: [String], into buffer: inout ByteBuffer) {
        writeHeader(UInt8(ascii: "*"), Int64(args.count), into: &buffer)
        for arg in args {
            writeBulk(arg.utf8, into: &buffer)
        }
    }

    /// Appends a request made of binary-safe arguments (the readable bytes of
    /// each buffer).
    public static func encodeCommand(_ args: [ByteBuffer], into buffer: inout ByteBuffer) {
        writeHeader(UInt8(ascii: "*"), Int64(args.count), into: &buffer)
        for arg in args {
            writeBulk(arg.readableBytesView, into: &buffer)
        }
    }

    /// Formats a double the way Redis does: integral values below 2^53
    /// without a fraction (`3`), others in shortest round-trip form
    /// (`0.1`, `1e+20`), and `inf`, `-inf`, `nan`.
    static func format(_ d: Double) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d < 0 ? "-inf" : "inf" }
        if d == d.rounded(), abs(d) < 9_007_199_254_740_992 {
            return String(Int64(d))
        }
        return d.description
    }

    private static func validVerbatimFormat(_ format: String) -> Bool {
        let bytes = Array(format.utf8)
        return bytes.count == 3 && !bytes.contains { $0 == UInt8(ascii: ":") || $0 == 0x0D || $0 == 0x0A }
    }

    private static func writeHeader(_ type: UInt8, _ n: Int64, into buffer: inout ByteBuffer) {
        buffer.writeInteger(type)
        writeDecimal(n, into: &buffer)
        buffer.writeStaticString("\r\n")
    }

    /// Writes `n` in decimal: digits straight into the buffer, where `String(n)` made a string
    /// first (a few percent of an ITEM.GET's time, for the headers of its many fields).
    static func writeDecimal(_ n: Int64, into buffer: inout ByteBuffer) {
        // The raw writer's digits; Int64.min is 19 digits and a sign.
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 20) { raw in
            var digits = RESPRawWriter(version: .resp2, base: raw.baseAddress!, capacity: raw.count)
            digits.decimal(n)
            return digits.count
        }
    }

    private static func writeLine(_ type: UInt8, _ text: String, into buffer: inout ByteBuffer) {
        buffer.writeInteger(type)
        // Written first, then any CR or LF in it turned to a space, in place: cheaper than
        // scanning the string's UTF-8 view before writing it.
        let start = buffer.writerIndex - buffer.readerIndex
        let count = buffer.writeString(text)
        buffer.withUnsafeMutableReadableBytes { bytes in
            for i in start..<(start + count) where bytes[i] == 0x0D || bytes[i] == 0x0A {
                bytes[i] = UInt8(ascii: " ")
            }
        }
        buffer.writeStaticString("\r\n")
    }

    private static func writeBulk(_ bytes: some Collection<UInt8>, into buffer: inout ByteBuffer) {
        writeHeader(UInt8(ascii: "$"), Int64(bytes.count), into: &buffer)
        buffer.writeBytes(bytes)
        buffer.writeStaticString("\r\n")
    }

    private static func writeAggregate(
        _ type: UInt8, _ elements: [RESPValue], _ version: RESPVersion, into buffer: inout ByteBuffer
    ) {
        writeHeader(type, Int64(elements.count), into: &buffer)
        for element in elements {
            encode(element, as: version, into: &buffer)
        }
    }
}

/// Writes the pieces of a reply into raw memory (``RESPEncoder/write(as:into:_:)``), or only
/// counts their bytes when it has no memory. Each piece comes out as ``RESPEncoder`` writes
/// the same value for ``version``.
public struct RESPRawWriter {
    public let version: RESPVersion
    @usableFromInline let base: UnsafeMutableRawPointer?
    /// The bytes `base` has room for: a body that writes more than it measured stops here,
    /// before it writes past the reserved space.
    @usableFromInline let capacity: Int
    @usableFromInline var written = 0
    /// Bytes written (or counted) so far.
    public var count: Int { written }

    @inlinable
    init(version: RESPVersion, base: UnsafeMutableRawPointer?, capacity: Int) {
        self.version = version
        self.base = base
        self.capacity = capacity
    }

    @inlinable
    mutating func byte(_ b: UInt8) {
        if let base {
            precondition(written < capacity, "a reply wrote more than it measured")
            base.storeBytes(of: b, toByteOffset: written, as: UInt8.self)
        }
        written += 1
    }

    @inlinable
    mutating func bytes(_ bytes: UnsafeRawBufferPointer) {
        if let base, let source = bytes.baseAddress, bytes.count > 0 {
            precondition(written + bytes.count <= capacity, "a reply wrote more than it measured")
            (base + written).copyMemory(from: source, byteCount: bytes.count)
        }
        written += bytes.count
    }

    @inlinable
    mutating func crlf() {
        byte(0x0D)
        byte(0x0A)
    }

    @inlinable
    mutating func decimal(_ n: Int64) {
        if n >= 0, n < 10 {
            byte(UInt8(ascii: "0") &+ UInt8(n))
            return
        }
        var magnitude = n.magnitude
        var digits = 0
        var rest = magnitude
        repeat { digits += 1; rest /= 10 } while rest > 0
        if n < 0 { byte(UInt8(ascii: "-")) }
        if let base {
            precondition(written + digits <= capacity, "a reply wrote more than it measured")
            var i = written + digits
            repeat {
                i -= 1
                base.storeBytes(of: UInt8(ascii: "0") &+ UInt8(magnitude % 10), toByteOffset: i, as: UInt8.self)
                magnitude /= 10
            } while magnitude > 0
        }
        written += digits
    }

    @inlinable
    mutating func header(_ type: UInt8, _ n: Int64) {
        byte(type)
        decimal(n)
        crlf()
    }

    /// The header of a map of `count` pairs: `%N` in RESP3, a flat array `*2N` in RESP2.
    @inlinable
    public mutating func mapHeader(count pairs: Int) {
        if version == .resp3 {
            header(UInt8(ascii: "%"), Int64(pairs))
        } else {
            header(UInt8(ascii: "*"), Int64(pairs) * 2)
        }
    }

    /// The header of an array of `count` elements.
    @inlinable
    public mutating func arrayHeader(count elements: Int) {
        header(UInt8(ascii: "*"), Int64(elements))
    }

    /// A bulk string of `text`'s UTF-8 bytes.
    @inlinable
    public mutating func bulk(_ text: String) {
        let done: Void? = text.utf8.withContiguousStorageIfAvailable { bulk(utf8: UnsafeRawBufferPointer($0)) }
        if done == nil {
            Array(text.utf8).withUnsafeBytes { bulk(utf8: $0) }
        }
    }

    /// A bulk string of UTF-8 bytes already at hand (a timestamp's, say).
    @inlinable
    public mutating func bulk(utf8: UnsafeRawBufferPointer) {
        header(UInt8(ascii: "$"), Int64(utf8.count))
        bytes(utf8)
        crlf()
    }

    /// A bulk string of a literal (a map's key).
    @inlinable
    public mutating func key(_ text: StaticString) {
        header(UInt8(ascii: "$"), Int64(text.utf8CodeUnitCount))
        bytes(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        crlf()
    }

    /// A bulk string, or null (`_` in RESP3, `$-1` in RESP2) when `text` is nil.
    @inlinable
    public mutating func bulk(_ text: String?) {
        if let text {
            bulk(text)
        } else if version == .resp3 {
            byte(UInt8(ascii: "_"))
            crlf()
        } else {
            header(UInt8(ascii: "$"), -1)
        }
    }

    /// An integer.
    @inlinable
    public mutating func integer(_ n: Int64) {
        header(UInt8(ascii: ":"), n)
    }

    /// A boolean: `#t` / `#f` in RESP3, `:1` / `:0` in RESP2.
    @inlinable
    public mutating func boolean(_ b: Bool) {
        if version == .resp3 {
            byte(UInt8(ascii: "#"))
            byte(UInt8(ascii: b ? "t" : "f"))
        } else {
            byte(UInt8(ascii: ":"))
            byte(UInt8(ascii: b ? "1" : "0"))
        }
        crlf()
    }
}

