import NIOCore

/// Server side: turns the bytes a client sends into requests (argument lists).
///
/// A request is either an inline line (split with ``InlineCommandSplitter``,
/// ending in `\n` with an optional `\r` before it) or a multibulk array of bulk
/// strings, `*N\r\n$len\r\n<bytes>\r\n...`. Empty lines, lines of only
/// whitespace and the empty or null arrays `*0` / `*-1` produce no request and
/// are skipped, like Redis does.
///
/// The parser is incremental. Call ``next(_:)`` with everything received so
/// far that it has not consumed yet; it returns one request, or `nil` when it
/// needs more bytes. It consumes (moves the reader index past) complete
/// requests and the parts of a multibulk request already parsed, keeping the
/// progress in its own state, so the caller keeps appending new bytes to the
/// same buffer. The result does not depend on how the input was split.
///
/// Parsing is bounded by ``limits``: every limit is checked as soon as the
/// bytes that break it arrive (an overlong inline line when `maxInlineLength +
/// 1` bytes of line are buffered, an oversized bulk or array on its
/// header), so at most about one element's worth of bytes is ever held
/// unconsumed. On a violation ``next(_:)`` throws a ``RESPProtocolError``;
/// the parser's state is then unspecified and the connection must be closed.
///
/// Until ``authenticated`` is set the `preAuth*` limits apply as well. Flip it
/// between requests, after the request that authenticated the connection.
public struct RESPRequestParser: Sendable {
    /// The limits in force. May be changed between requests.
    public var limits: RESPLimits
    /// Whether the connection has authenticated. While `false`, requests are
    /// limited to ``RESPLimits/preAuthMaxArguments`` arguments and
    /// ``RESPLimits/preAuthMaxBytes`` bytes.
    public var authenticated: Bool

    private enum State: Sendable, Hashable {
        /// Between requests.
        case idle
        /// Reading an inline line; `scanned` bytes were already seen not to be `\n`.
        case inline(scanned: Int)
        /// Inside a multibulk request, expecting a `$len` header.
        case bulkHeader(remaining: Int)
        /// Inside a multibulk request, waiting for `length` payload bytes and `\r\n`.
        case bulkBody(length: Int, remaining: Int)
    }

    private var state: State = .idle
    private var arguments: [ByteBuffer] = []
    /// Wire bytes of the current multibulk request consumed so far.
    private var requestBytes = 0

    /// Creates a parser. Connections start unauthenticated unless told otherwise.
    public init(limits: RESPLimits = .default, authenticated: Bool = false) {
        self.limits = limits
        self.authenticated = authenticated
    }

    /// Whether the parser is between requests (has no partial request buffered).
    public var isIdle: Bool { state == .idle }

    /// Parses the next request from `buffer`.
    ///
    /// - Returns: The request's arguments (never empty), or `nil` if `buffer`
    ///   does not hold a complete request yet. Call again after appending more
    ///   bytes; bytes already consumed must not be fed again.
    /// - Throws: ``RESPProtocolError`` on malformed input, an exceeded limit, or
    ///   an HTTP request (``RESPProtocolError/Kind/httpRequest``).
    public mutating func next(_ buffer: inout ByteBuffer) throws(RESPProtocolError) -> [ByteBuffer]? {
        while true {
            switch state {
            case .idle:
                guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return nil }
                if first == UInt8(ascii: "*") {
                    guard try readMultibulkHeader(&buffer) else { return nil }
                } else {
                    state = .inline(scanned: 0)
                }

            case .inline(let scanned):
                switch try readInlineLine(&buffer, scanned: scanned) {
                case .needMoreData(let nowScanned):
                    state = .inline(scanned: nowScanned)
                    return nil
                case .ignored:
                    state = .idle
                case .request(let words):
                    state = .idle
                    return words
                }

            case .bulkHeader(let remaining):
                guard try readBulkHeader(&buffer, remaining: remaining) else { return nil }

            case .bulkBody(let length, let remaining):
                guard buffer.readableBytes >= 2, buffer.readableBytes - 2 >= length else { return nil }
                let terminator = buffer.readerIndex + length
                guard buffer.getInteger(at: terminator, as: UInt8.self) == UInt8(ascii: "\r"),
                    buffer.getInteger(at: terminator + 1, as: UInt8.self) == UInt8(ascii: "\n")
                else { throw .invalidBulkTerminator }
                let argument = buffer.readSlice(length: length)!
                buffer.moveReaderIndex(forwardBy: 2)
                requestBytes += length + 2
                arguments.append(argument)
                if remaining > 1 {
                    state = .bulkHeader(remaining: remaining - 1)
                } else {
                    let request = arguments
                    arguments = []
                    requestBytes = 0
                    state = .idle
                    return request
                }
            }
        }
    }

    // MARK: Multibulk

    /// Reads `*N\r\n`. Returns `false` if more bytes are needed.
    private mutating func readMultibulkHeader(_ buffer: inout ByteBuffer) throws(RESPProtocolError) -> Bool {
        switch RESPIntegerLine.scan(buffer) {
        case .needMoreData:
            return false
        case .invalid:
            throw .invalidMultibulkLength
        case .value(let count, let length):
            buffer.moveReaderIndex(forwardBy: length)
            // Like Redis, `*0` and negative counts (`*-1`, `*-10`) are skipped.
            guard count > 0 else { return true }
            guard count <= Int64(limits.maxArrayLength) else { throw .multibulkLengthTooLarge }
            if !authenticated {
                guard count <= Int64(limits.preAuthMaxArguments) else { throw .tooManyArgumentsBeforeAuth }
                guard length <= limits.preAuthMaxBytes else { throw .requestTooLargeBeforeAuth }
            }
            arguments = []
            arguments.reserveCapacity(Int(min(count, 16)))
            requestBytes = length
            state = .bulkHeader(remaining: Int(count))
            return true
        }
    }

    /// Reads `$len\r\n`. Returns `false` if more bytes are needed.
    private mutating func readBulkHeader(_ buffer: inout ByteBuffer, remaining: Int) throws(RESPProtocolError) -> Bool {
        guard let first = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return false }
        guard first == UInt8(ascii: "$") else { throw .expectedDollar(got: first) }
        switch RESPIntegerLine.scan(buffer) {
        case .needMoreData:
            return false
        case .invalid:
            throw .invalidBulkLength
        case .value(let length, let headerLength):
            guard length >= 0 else { throw .invalidBulkLength }
            guard length <= Int64(limits.maxBulkLength) else { throw .bulkLengthTooLarge }
            if !authenticated {
                let allowed = Int64(max(limits.preAuthMaxBytes, 0)) - Int64(requestBytes + headerLength) - 2
                guard length <= allowed else { throw .requestTooLargeBeforeAuth }
            }
            buffer.moveReaderIndex(forwardBy: headerLength)
            requestBytes += headerLength
            state = .bulkBody(length: Int(length), remaining: remaining)
            return true
        }
    }

    // MARK: Inline

    private enum InlineResult {
        case needMoreData(scanned: Int)
        case ignored
        case request([ByteBuffer])
    }

    /// The limit error, if any, for an inline line of which the first
    /// `length` bytes are known to hold no `\n`.
    ///
    /// The line (without its `\n` or `\r\n`) may have at most
    /// `maxInlineLength` bytes, and before AUTH the whole line (with its `\n`)
    /// at most `preAuthMaxBytes`. Each check fails from some prefix length on;
    /// the error reported is the one that fails at the shortest prefix, so it
    /// is the same however the line arrives.
    private func inlineLimitError(_ bytes: UnsafeRawBufferPointer, length: Int) -> RESPProtocolError? {
        let maxInline = max(limits.maxInlineLength, 0)
        // Shortest failing prefix for the inline limit: maxInline + 1 bytes,
        // unless the last of them is a "\r" that may still precede the "\n".
        var inlineFailsAt = Int.max
        if length > maxInline {
            inlineFailsAt = bytes[maxInline] == UInt8(ascii: "\r") ? maxInline.addingSaturating(2) : maxInline + 1
        }
        let preAuthFailsAt = authenticated ? Int.max : limits.preAuthMaxBytes
        let inlineFails = inlineFailsAt <= length
        let preAuthFails = preAuthFailsAt <= length
        if preAuthFails && (!inlineFails || preAuthFailsAt <= inlineFailsAt) { return .requestTooLargeBeforeAuth }
        return inlineFails ? .tooBigInlineRequest : nil
    }

    private mutating func readInlineLine(
        _ buffer: inout ByteBuffer, scanned: Int
    ) throws(RESPProtocolError) -> InlineResult {
        let readable = buffer.readableBytes
        // No line longer than this can be valid, so never look further.
        let window = min(
            max(limits.maxInlineLength, 0).addingSaturating(2),
            authenticated ? Int.max : max(limits.preAuthMaxBytes, 0))
        let searchEnd = min(readable, window)
        let (newline, limitError): (Int?, RESPProtocolError?) = buffer.withUnsafeReadableBytes { bytes in
            var i = scanned
            while i < searchEnd {
                if bytes[i] == UInt8(ascii: "\n") { return (i, inlineLimitError(bytes, length: i)) }
                i += 1
            }
            return (nil, inlineLimitError(bytes, length: searchEnd))
        }
        if let limitError { throw limitError }
        guard let newline else {
            // Reaching the window without a newline always breaks a limit.
            assert(searchEnd == readable)
            return .needMoreData(scanned: searchEnd)
        }

        var contentLength = newline
        if contentLength > 0,
            buffer.getInteger(at: buffer.readerIndex + contentLength - 1, as: UInt8.self) == UInt8(ascii: "\r")
        {
            contentLength -= 1
        }
        let view = buffer.readableBytesView
        let line = view[view.startIndex..<(view.startIndex + contentLength)]
        if HTTPRequestDetector.looksLikeHTTP(line) { throw .httpRequest }
        let words = try InlineCommandSplitter.split(line)
        buffer.moveReaderIndex(forwardBy: newline + 1)
        if words.isEmpty { return .ignored }
        guard words.count <= limits.maxArrayLength else { throw .tooManyInlineArguments }
        if !authenticated && words.count > limits.preAuthMaxArguments { throw .tooManyArgumentsBeforeAuth }
        return .request(words)
    }
}

extension Int {
    fileprivate func addingSaturating(_ other: Int) -> Int {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }
}
