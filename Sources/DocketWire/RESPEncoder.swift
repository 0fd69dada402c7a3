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

    // MARK: Writing a reply piece by piece
    //
    // For replies written straight from their source, without a `RESPValue` tree first (an
    // item's map on ITEM.GET's path). Each writes what `encode` writes for the same value.

    /// The header of a map of `count` pairs: `%N` in RESP3, a flat array `*2N` in RESP2.
    public static func writeMapHeader(count: Int, as version: RESPVersion, into buffer: inout ByteBuffer) {
        if version == .resp3 {
            writeHeader(UInt8(ascii: "%"), Int64(count), into: &buffer)
        } else {
            writeHeader(UInt8(ascii: "*"), Int64(count) * 2, into: &buffer)
        }
    }

    /// The header of an array of `count` elements.
    public static func writeArrayHeader(count: Int, into buffer: inout ByteBuffer) {
        writeHeader(UInt8(ascii: "*"), Int64(count), into: &buffer)
    }

    /// A bulk string of `text`'s UTF-8 bytes, as `encode(.bulk(text))` writes it.
    public static func writeBulk(_ text: String, into buffer: inout ByteBuffer) {
        var text = text
        text.withUTF8 { bytes in
            writeHeader(UInt8(ascii: "$"), Int64(bytes.count), into: &buffer)
            buffer.writeBytes(UnsafeRawBufferPointer(bytes))
        }
        buffer.writeStaticString("\r\n")
    }

    /// A bulk string of a literal (a map's key).
    public static func writeBulk(_ text: StaticString, into buffer: inout ByteBuffer) {
        writeHeader(UInt8(ascii: "$"), Int64(text.utf8CodeUnitCount), into: &buffer)
        buffer.writeStaticString(text)
        buffer.writeStaticString("\r\n")
    }

    /// A bulk string, or null when `text` is nil.
    public static func writeBulk(_ text: String?, as version: RESPVersion, into buffer: inout ByteBuffer) {
        if let text {
            writeBulk(text, into: &buffer)
        } else {
            encode(.null, as: version, into: &buffer)
        }
    }

    /// An integer.
    public static func writeInteger(_ n: Int64, into buffer: inout ByteBuffer) {
        writeHeader(UInt8(ascii: ":"), n, into: &buffer)
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
        if n >= 0, n < 10 {
            buffer.writeInteger(UInt8(ascii: "0") &+ UInt8(n))
            return
        }
        // Int64.min is 19 digits and a sign.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var magnitude = n.magnitude
            var start = digits.count
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") &+ UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if n < 0 {
                start -= 1
                digits[start] = UInt8(ascii: "-")
            }
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(digits)[start...]))
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
