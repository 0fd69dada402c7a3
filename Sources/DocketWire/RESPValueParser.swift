import NIOCore

/// Client side: turns the bytes a server sends into reply values.
///
/// Understands every RESP2 and RESP3 type: `+ - : $ *` and `_ , # ( ! = % ~ >`.
/// RESP3 attributes (`|N` followed by N key/value pairs) are parsed and
/// discarded, wherever they appear. Streamed strings and aggregates (`$?`,
/// `*?`...) are rejected.
///
/// Like ``RESPRequestParser`` it is incremental: call ``next(_:)`` with the
/// bytes received and not yet consumed; it returns one complete reply or `nil`
/// when more bytes are needed, consuming what it has parsed and keeping the
/// partial aggregates in its own state. It is bounded: bulk payloads longer
/// than `maxBulkLength`, aggregates with more than `maxAggregateLength`
/// elements (pairs, for maps) and nesting deeper than `maxDepth` are rejected
/// on their header; simple lines (`+`, `-`, `(`) may be at most
/// `maxBulkLength` bytes and numeric lines (`,`, `#`, `_`) 1,024 bytes (or
/// `maxBulkLength`, if smaller).
public struct RESPValueParser: Sendable {
    /// Largest accepted `$`, `!` or `=` payload.
    public var maxBulkLength: Int
    /// Most elements of an `*`, `~` or `>` aggregate, pairs of a `%` map or `|` attribute.
    public var maxAggregateLength: Int
    /// Deepest accepted nesting of aggregates (a flat array is depth 1).
    public var maxDepth: Int

    private struct Frame: Sendable {
        enum Kind: Sendable { case array, set, push, map, attribute }
        var kind: Kind
        var remaining: Int
        var elements: [RESPValue]

        /// The finished aggregate, or `nil` for an attribute (discarded).
        func build() -> RESPValue? {
            switch kind {
            case .array: return .array(elements)
            case .set: return .set(elements)
            case .push: return .push(elements)
            case .map: return .map(Self.pairs(elements))
            case .attribute: return nil
            }
        }

        static func pairs(_ elements: [RESPValue]) -> [(RESPValue, RESPValue)] {
            stride(from: 0, to: elements.count - 1, by: 2).map { (elements[$0], elements[$0 + 1]) }
        }
    }

    private struct PendingBlob: Sendable {
        var type: UInt8
        var length: Int
    }

    private var stack: [Frame] = []
    private var pendingBlob: PendingBlob?
    /// Bytes of the current line already known not to hold `\n`.
    private var lineScanned = 0

    private static let maxNumericLineLength = 1024

    /// Creates a parser with the given bounds.
    public init(maxBulkLength: Int = 512 * 1024 * 1024, maxAggregateLength: Int = 1 << 20, maxDepth: Int = 64) {
        self.maxBulkLength = maxBulkLength
        self.maxAggregateLength = maxAggregateLength
        self.maxDepth = maxDepth
    }

    /// Parses the next reply from `buffer`.
    ///
    /// - Returns: The reply, or `nil` if `buffer` does not complete one yet.
    ///   Call again after appending more bytes; consumed bytes must not be fed again.
    /// - Throws: ``RESPProtocolError`` on malformed input or exceeded bounds;
    ///   the parser's state is then unspecified and the connection should be closed.
    public mutating func next(_ buffer: inout ByteBuffer) throws(RESPProtocolError) -> RESPValue? {
        while true {
            let value: RESPValue
            if let blob = pendingBlob {
                guard buffer.readableBytes >= 2, buffer.readableBytes - 2 >= blob.length else { return nil }
                let end = buffer.readerIndex + blob.length
                guard buffer.getInteger(at: end, as: UInt8.self) == UInt8(ascii: "\r"),
                    buffer.getInteger(at: end + 1, as: UInt8.self) == UInt8(ascii: "\n")
                else { throw .invalidReply("bulk terminator") }
                let bytes = buffer.readSlice(length: blob.length)!
                buffer.moveReaderIndex(forwardBy: 2)
                pendingBlob = nil
                value = try Self.makeBlob(type: blob.type, bytes)
            } else {
                guard let type = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return nil }
                switch type {
                case UInt8(ascii: "$"), UInt8(ascii: "!"), UInt8(ascii: "="):
                    guard let length = try readLength(&buffer, what: "bulk length", nullable: type == UInt8(ascii: "$"))
                    else { return nil }
                    guard let length else {
                        value = .null
                        break
                    }
                    guard length <= Int64(maxBulkLength) else { throw .replyTooLarge("bulk string") }
                    pendingBlob = PendingBlob(type: type, length: Int(length))
                    continue

                case UInt8(ascii: "*"), UInt8(ascii: "%"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "|"):
                    guard let count = try readLength(&buffer, what: "aggregate length", nullable: type == UInt8(ascii: "*"))
                    else { return nil }
                    guard let count else {
                        value = .nullArray
                        break
                    }
                    guard count <= Int64(maxAggregateLength) else { throw .replyTooLarge("aggregate") }
                    let kind: Frame.Kind
                    var elements = Int(count)
                    switch type {
                    case UInt8(ascii: "*"): kind = .array
                    case UInt8(ascii: "~"): kind = .set
                    case UInt8(ascii: ">"): kind = .push
                    case UInt8(ascii: "%"): kind = .map; elements *= 2
                    default: kind = .attribute; elements *= 2
                    }
                    let frame = Frame(kind: kind, remaining: elements, elements: [])
                    if elements == 0 {
                        guard let empty = frame.build() else { continue }
                        value = empty
                        break
                    }
                    guard stack.count < maxDepth else { throw .nestingTooDeep }
                    stack.append(frame)
                    stack[stack.count - 1].elements.reserveCapacity(min(elements, 1024))
                    continue

                case UInt8(ascii: ":"):
                    switch RESPIntegerLine.scan(buffer) {
                    case .needMoreData: return nil
                    case .invalid: throw .invalidReply("integer")
                    case .value(let i, let length):
                        buffer.moveReaderIndex(forwardBy: length)
                        value = .integer(i)
                    }

                case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "("):
                    guard let line = try readLine(&buffer, maxLength: maxBulkLength) else { return nil }
                    value = try Self.makeLine(type: type, line)

                case UInt8(ascii: ","), UInt8(ascii: "#"), UInt8(ascii: "_"):
                    guard let line = try readLine(&buffer, maxLength: min(Self.maxNumericLineLength, maxBulkLength)) else {
                        return nil
                    }
                    value = try Self.makeLine(type: type, line)

                default:
                    throw .unknownReplyType(type)
                }
            }
            if let complete = deliver(value) { return complete }
        }
    }

    /// Adds a finished value to the innermost open aggregate, closing the
    /// aggregates it completes. Returns the top-level reply once one is done.
    private mutating func deliver(_ value: RESPValue) -> RESPValue? {
        var value = value
        while !stack.isEmpty {
            let top = stack.count - 1
            stack[top].elements.append(value)
            stack[top].remaining -= 1
            guard stack[top].remaining == 0 else { return nil }
            guard let built = stack.removeLast().build() else { return nil }  // attribute: dropped
            value = built
        }
        return value
    }

    /// Reads a `<type><integer>\r\n` length header. Returns `nil` if more
    /// bytes are needed, `.some(nil)` for the null length `-1` when `nullable`.
    private func readLength(
        _ buffer: inout ByteBuffer, what: String, nullable: Bool
    ) throws(RESPProtocolError) -> Int64?? {
        if buffer.getInteger(at: buffer.readerIndex + 1, as: UInt8.self) == UInt8(ascii: "?") {
            throw .streamedNotSupported
        }
        switch RESPIntegerLine.scan(buffer) {
        case .needMoreData:
            return nil
        case .invalid:
            throw .invalidReply(what)
        case .value(let n, let length):
            if n == -1 && nullable {
                buffer.moveReaderIndex(forwardBy: length)
                return .some(nil)
            }
            guard n >= 0 else { throw .invalidReply(what) }
            buffer.moveReaderIndex(forwardBy: length)
            return .some(n)
        }
    }

    /// Reads a `<type><text>\r\n` line, returning the text bytes, or `nil`
    /// if the line is not complete yet.
    private mutating func readLine(_ buffer: inout ByteBuffer, maxLength: Int) throws(RESPProtocolError) -> ByteBuffer? {
        // The "\n" of a line with `maxLength` content bytes is at offset maxLength + 2.
        let (limit, overflow) = max(maxLength, 0).addingReportingOverflow(3)
        let searchEnd = min(buffer.readableBytes, overflow ? Int.max : limit)
        let start = max(lineScanned, 1)
        let newline: Int? = buffer.withUnsafeReadableBytes { bytes in
            var i = start
            while i < searchEnd {
                if bytes[i] == UInt8(ascii: "\n") { return i }
                i += 1
            }
            return nil
        }
        guard let newline else {
            if searchEnd == limit && !overflow { throw .replyTooLarge("line") }
            lineScanned = searchEnd
            return nil
        }
        lineScanned = 0
        guard newline >= 2,
            buffer.getInteger(at: buffer.readerIndex + newline - 1, as: UInt8.self) == UInt8(ascii: "\r")
        else { throw .invalidReply("line terminator") }
        buffer.moveReaderIndex(forwardBy: 1)
        let text = buffer.readSlice(length: newline - 2)!
        buffer.moveReaderIndex(forwardBy: 2)
        return text
    }

    private static func makeLine(type: UInt8, _ line: ByteBuffer) throws(RESPProtocolError) -> RESPValue {
        let text = String(buffer: line)
        switch type {
        case UInt8(ascii: "+"):
            return .simpleString(text)
        case UInt8(ascii: "-"):
            return .error(text)
        case UInt8(ascii: "("):
            let digits = text.utf8.first == UInt8(ascii: "-") ? text.utf8.dropFirst() : text.utf8[...]
            guard !digits.isEmpty, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
                throw .invalidReply("big number")
            }
            return .bigNumber(text)
        case UInt8(ascii: ","):
            guard let d = Double(text) else { throw .invalidReply("double") }
            return .double(d)
        case UInt8(ascii: "#"):
            switch text {
            case "t": return .boolean(true)
            case "f": return .boolean(false)
            default: throw .invalidReply("boolean")
            }
        default:  // "_"
            guard text.isEmpty else { throw .invalidReply("null") }
            return .null
        }
    }

    private static func makeBlob(type: UInt8, _ bytes: ByteBuffer) throws(RESPProtocolError) -> RESPValue {
        switch type {
        case UInt8(ascii: "$"):
            return .bulkString(bytes)
        case UInt8(ascii: "!"):
            return .error(String(buffer: bytes))
        default:  // "="
            guard bytes.readableBytes >= 4, bytes.getInteger(at: bytes.readerIndex + 3, as: UInt8.self) == UInt8(ascii: ":")
            else { throw .invalidReply("verbatim string") }
            let format = bytes.getString(at: bytes.readerIndex, length: 3) ?? ""
            let text = bytes.getString(at: bytes.readerIndex + 4, length: bytes.readableBytes - 4) ?? ""
            return .verbatim(format: format, text: text)
        }
    }
}
