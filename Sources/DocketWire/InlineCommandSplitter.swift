import NIOCore

/// Splits an inline command line into arguments exactly like redis-cli and
/// Redis' `sdssplitargs` do.
///
/// - Words are separated by whitespace (space, `\t`, `\n`, `\r`, `\v`, `\f`).
/// - Double quotes group a word and understand the escapes `\n \r \t \b \a`,
///   `\xHH` (two hex digits) and `\<any>` for that character (so `\"` and
///   `\\`).
/// - Single quotes group a word literally, except `\'` for a quote.
/// - A quote may start in the middle of a word (`a"b c"` is `ab c`), but a
///   closing quote must be followed by whitespace or the end of the line.
///
/// Unlike the C original the splitter is binary-safe: a NUL byte is an
/// ordinary character. Used by ``RESPRequestParser`` for inline requests and
/// by the CLI to split a typed line.
public enum InlineCommandSplitter {
    /// Splits `line` (without its line terminator) into arguments.
    ///
    /// A line of only whitespace gives no arguments.
    /// - Throws: ``RESPProtocolError/unbalancedQuotes`` for an unterminated
    ///   quote or a closing quote followed by something other than whitespace.
    public static func split(_ line: some Collection<UInt8>) throws(RESPProtocolError) -> [ByteBuffer] {
        if let result = line.withContiguousStorageIfAvailable({ splitContiguous($0) }) {
            return try result.get()
        }
        let copy = Array(line)
        return try copy.withUnsafeBufferPointer { splitContiguous($0) }.get()
    }

    @inline(__always)
    static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)
    }

    @inline(__always)
    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    private enum Quote { case none, double, single }

    private static func splitContiguous(_ p: UnsafeBufferPointer<UInt8>) -> Result<[ByteBuffer], RESPProtocolError> {
        let n = p.count
        var words: [ByteBuffer] = []
        var i = 0
        let backslash = UInt8(ascii: "\\")
        let doubleQuote = UInt8(ascii: "\"")
        let singleQuote = UInt8(ascii: "'")
        while true {
            while i < n && isSpace(p[i]) { i += 1 }
            if i >= n { return .success(words) }

            var current: [UInt8] = []
            var quote = Quote.none
            word: while true {
                switch quote {
                case .double:
                    guard i < n else { return .failure(.unbalancedQuotes) }
                    let c = p[i]
                    if c == backslash, i + 3 < n, p[i + 1] == UInt8(ascii: "x"),
                        let hi = hexValue(p[i + 2]), let lo = hexValue(p[i + 3])
                    {
                        current.append(hi << 4 | lo)
                        i += 4
                    } else if c == backslash, i + 1 < n {
                        switch p[i + 1] {
                        case UInt8(ascii: "n"): current.append(0x0A)
                        case UInt8(ascii: "r"): current.append(0x0D)
                        case UInt8(ascii: "t"): current.append(0x09)
                        case UInt8(ascii: "b"): current.append(0x08)
                        case UInt8(ascii: "a"): current.append(0x07)
                        case let other: current.append(other)
                        }
                        i += 2
                    } else if c == doubleQuote {
                        if i + 1 < n && !isSpace(p[i + 1]) { return .failure(.unbalancedQuotes) }
                        i += 1
                        break word
                    } else {
                        current.append(c)
                        i += 1
                    }
                case .single:
                    guard i < n else { return .failure(.unbalancedQuotes) }
                    let c = p[i]
                    if c == backslash, i + 1 < n, p[i + 1] == singleQuote {
                        current.append(singleQuote)
                        i += 2
                    } else if c == singleQuote {
                        if i + 1 < n && !isSpace(p[i + 1]) { return .failure(.unbalancedQuotes) }
                        i += 1
                        break word
                    } else {
                        current.append(c)
                        i += 1
                    }
                case .none:
                    guard i < n else { break word }
                    let c = p[i]
                    switch c {
                    case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\t"):
                        i += 1
                        break word
                    case doubleQuote:
                        quote = .double
                    case singleQuote:
                        quote = .single
                    default:
                        current.append(c)
                    }
                    i += 1
                }
            }
            words.append(ByteBuffer(bytes: current))
        }
    }
}
