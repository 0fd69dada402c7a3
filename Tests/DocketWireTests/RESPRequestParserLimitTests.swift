import DocketWire
import NIOCore
import Testing

@Suite("RESPRequestParser: limits")
struct RESPRequestParserLimitTests {
    static let kib = 1024

    /// `SET k <valueLength × "v">` as a multibulk request.
    static func setCommand(valueLength: Int) -> [UInt8] {
        var out = ByteBuffer()
        RESPEncoder.encodeCommand(["SET", "k", String(repeating: "v", count: valueLength)], into: &out)
        return Array(out.readableBytesView)
    }

    /// Feeds `input` in `chunkSize` pieces.
    static func chunked(_ input: [UInt8], _ chunkSize: Int) -> [[UInt8]] {
        stride(from: 0, to: input.count, by: chunkSize).map { Array(input[$0..<min($0 + chunkSize, input.count)]) }
    }

    // MARK: Inline length

    @Test func inlineLineUpToTheLimitIsAccepted() {
        let line = [UInt8](repeating: UInt8(ascii: "a"), count: 64 * Self.kib)
        for chunkSize in [1 << 20, 1000, 4096] {
            #expect(parseRequests(Self.chunked(line + [10], chunkSize)).requests == [[ByteBuffer(bytes: line)]])
        }
        // The "\r\n" terminator does not count towards the limit.
        let withCR = line + [13, 10]
        for chunkSize in [1 << 20, 1000, 4096] {
            #expect(parseRequests(Self.chunked(withCR, chunkSize)).requests == [[ByteBuffer(bytes: line)]])
        }
    }

    @Test func inlineLineOverTheLimitIsRejected() {
        let line = [UInt8](repeating: UInt8(ascii: "a"), count: 64 * Self.kib + 1) + [10]
        for chunkSize in [1 << 20, 1000, 4096] {
            let outcome = parseRequests(Self.chunked(line, chunkSize))
            #expect(outcome.error == .tooBigInlineRequest)
            #expect(outcome.error?.kind == .limit)
        }
        let withCR = [UInt8](repeating: UInt8(ascii: "a"), count: 64 * Self.kib + 1) + [13, 10]
        #expect(parseRequests([withCR]).error == .tooBigInlineRequest)
        // A "\r" that is not the terminator is part of the line.
        let innerCR = [UInt8](repeating: UInt8(ascii: "a"), count: 64 * Self.kib) + [13, 13, 10]
        #expect(parseRequests([innerCR]).error == .tooBigInlineRequest)
    }

    @Test func inlineLineIsRejectedAsSoonAsItExceedsTheLimit() throws {
        var parser = RESPRequestParser(authenticated: true)
        var buf = ByteBuffer(repeating: UInt8(ascii: "a"), count: 64 * Self.kib)
        #expect(try parser.next(&buf) == nil)
        buf.writeInteger(UInt8(ascii: "a"))
        #expect(throws: RESPProtocolError.tooBigInlineRequest) { try parser.next(&buf) }
    }

    @Test func aTrailingCRAtTheLimitWaitsForItsNewline() throws {
        var parser = RESPRequestParser(authenticated: true)
        var buf = ByteBuffer(repeating: UInt8(ascii: "a"), count: 64 * Self.kib)
        buf.writeInteger(UInt8(ascii: "\r"))
        #expect(try parser.next(&buf) == nil)
        buf.writeInteger(UInt8(ascii: "\n"))
        #expect(try parser.next(&buf)?.first?.readableBytes == 64 * Self.kib)

        var parser2 = RESPRequestParser(authenticated: true)
        var buf2 = ByteBuffer(repeating: UInt8(ascii: "a"), count: 64 * Self.kib)
        buf2.writeString("\rb")
        #expect(throws: RESPProtocolError.tooBigInlineRequest) { try parser2.next(&buf2) }
    }

    @Test(arguments: [true, false])
    func nulFloodIsBoundedByTheInlineLimit(authenticated: Bool) {
        // 10 MiB of "\0" with no newline, arriving in 16 KiB reads.
        let chunk = 16 * Self.kib
        var parser = RESPRequestParser(authenticated: authenticated)
        var buf = ByteBuffer()
        var fed = 0
        var maxBuffered = 0
        var caught: RESPProtocolError?
        while fed < 10 * 1024 * 1024 {
            buf.writeRepeatingByte(0, count: chunk)
            fed += chunk
            maxBuffered = max(maxBuffered, buf.readableBytes)
            do {
                #expect(try parser.next(&buf) == nil)
            } catch {
                caught = error
                break
            }
        }
        let limit = authenticated ? RESPLimits.default.maxInlineLength : RESPLimits.default.preAuthMaxBytes
        #expect(caught == (authenticated ? .tooBigInlineRequest : .requestTooLargeBeforeAuth))
        #expect(maxBuffered <= limit + chunk)
        #expect(fed <= limit + chunk)
    }

    @Test func inlineLimitWinsWhenSmallerThanThePreAuthLimit() {
        let limits = RESPLimits(maxInlineLength: 100, preAuthMaxBytes: 1000)
        let line = [UInt8](repeating: UInt8(ascii: "a"), count: 101) + [10]
        #expect(expectSplitInvariant(line, limits: limits, authenticated: false).error == .tooBigInlineRequest)
    }

    // MARK: Bulk and array sizes

    @Test func bulkLengthLimit() {
        let limits = RESPLimits(maxBulkLength: 10)
        let ok = expectSplitInvariant(bytes("*1\r\n$10\r\n0123456789\r\n"), limits: limits)
        #expect(ok.requests == [request("0123456789")])
        let tooBig = expectSplitInvariant(bytes("*1\r\n$11\r\n01234567890\r\n"), limits: limits)
        #expect(tooBig.error == .bulkLengthTooLarge)
        #expect(tooBig.error?.kind == .limit)
    }

    @Test func oversizedBulkIsRejectedOnItsHeaderWithDefaultLimits() throws {
        var parser = RESPRequestParser(authenticated: true)
        var accepted = buffer("*2\r\n$3\r\nSET\r\n$16777216\r\n")
        #expect(try parser.next(&accepted) == nil)
        #expect(accepted.readableBytes == 0)

        var parser2 = RESPRequestParser(authenticated: true)
        var rejected = buffer("*2\r\n$3\r\nSET\r\n$16777217\r\n")
        #expect(throws: RESPProtocolError.bulkLengthTooLarge) { try parser2.next(&rejected) }
    }

    @Test func arrayLengthLimit() throws {
        var parser = RESPRequestParser(authenticated: true)
        var ok = buffer("*1024\r\n")
        #expect(try parser.next(&ok) == nil)
        var parser2 = RESPRequestParser(authenticated: true)
        var tooMany = buffer("*1025\r\n")
        #expect(throws: RESPProtocolError.multibulkLengthTooLarge) { try parser2.next(&tooMany) }
    }

    @Test func inlineWordCountIsLimitedByMaxArrayLength() {
        let limits = RESPLimits(maxArrayLength: 3)
        #expect(expectSplitInvariant(bytes("a b c\r\n"), limits: limits).requests == [request("a", "b", "c")])
        let error = expectSplitInvariant(bytes("a b c d\r\n"), limits: limits).error
        #expect(error == .tooManyInlineArguments)
        #expect(error?.kind == .limit)
        // The array limit is checked before the pre-auth one, as for multibulk.
        let line = bytes(Array(repeating: "x", count: 1025).joined(separator: " ") + "\n")
        #expect(parseRequests(Self.chunked(line, 100), authenticated: false).error == .tooManyInlineArguments)
    }

    @Test func limitsAreSettableBetweenRequests() throws {
        var parser = RESPRequestParser(authenticated: true)
        var buf = buffer("*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n")
        #expect(try parser.next(&buf) == request("a", "b", "c"))
        parser.limits.maxArrayLength = 2
        buf.writeString("*3\r\n")
        #expect(throws: RESPProtocolError.multibulkLengthTooLarge) { try parser.next(&buf) }
    }

    // MARK: Before AUTH

    @Test func preAuthArgumentCount() throws {
        let ten = Array(repeating: "x", count: 10)
        let eleven = Array(repeating: "x", count: 11)
        func multibulk(_ args: [String]) -> [UInt8] {
            var out = ByteBuffer()
            RESPEncoder.encodeCommand(args, into: &out)
            return Array(out.readableBytesView)
        }
        #expect(expectSplitInvariant(multibulk(ten), authenticated: false).requests.count == 1)
        let rejected = expectSplitInvariant(multibulk(eleven), authenticated: false)
        #expect(rejected.error == .tooManyArgumentsBeforeAuth)
        #expect(rejected.error?.reply == "ERR Protocol error: too many arguments before AUTH")
        // Decided on the "*11" header alone.
        #expect(parseRequests([bytes("*11\r\n")], authenticated: false).error == .tooManyArgumentsBeforeAuth)
        // Inline requests too.
        let inline10 = bytes(ten.joined(separator: " ") + "\r\n")
        let inline11 = bytes(eleven.joined(separator: " ") + "\r\n")
        #expect(expectSplitInvariant(inline10, authenticated: false).requests.count == 1)
        #expect(expectSplitInvariant(inline11, authenticated: false).error == .tooManyArgumentsBeforeAuth)
        // After AUTH the usual limits apply.
        #expect(expectSplitInvariant(multibulk(eleven), authenticated: true).requests.count == 1)
        #expect(expectSplitInvariant(inline11, authenticated: true).requests.count == 1)
    }

    @Test func preAuthRequestSize() {
        // Find the value length giving a request of exactly 16 KiB on the wire.
        let base = Self.setCommand(valueLength: 16_000).count - 16_000
        let exact = Self.setCommand(valueLength: 16 * Self.kib - base)
        #expect(exact.count == 16 * Self.kib)
        let oneOver = Self.setCommand(valueLength: 16 * Self.kib - base + 1)
        #expect(oneOver.count == 16 * Self.kib + 1)

        #expect(parseRequests([exact], authenticated: false).requests.count == 1)
        let rejected = parseRequests([oneOver], authenticated: false)
        #expect(rejected.error == .requestTooLargeBeforeAuth)
        #expect(rejected.error?.reply == "ERR Protocol error: request too large before AUTH")
        #expect(parseRequests([oneOver], authenticated: true).requests.count == 1)
    }

    @Test func preAuthSizeIsCheckedOnTheBulkHeader() throws {
        var parser = RESPRequestParser()
        var buf = buffer("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$17408\r\n")
        #expect(throws: RESPProtocolError.requestTooLargeBeforeAuth) { try parser.next(&buf) }
    }

    @Test func seventeenKiBRequestIsRejectedBeforeAuthButAcceptedAfter() throws {
        let big = Self.setCommand(valueLength: 17 * Self.kib)
        #expect(parseRequests([big], authenticated: false).error == .requestTooLargeBeforeAuth)

        var parser = RESPRequestParser()
        var buf = buffer("AUTH secret\r\n")
        #expect(try parser.next(&buf) == request("AUTH", "secret"))
        parser.authenticated = true
        buf.writeBytes(big)
        let parsed = try parser.next(&buf)
        #expect(parsed?.count == 3)
        #expect(parsed?.last?.readableBytes == 17 * Self.kib)
    }

    @Test func preAuthInlineSize() throws {
        let ok = [UInt8](repeating: UInt8(ascii: "a"), count: 16 * Self.kib - 1) + [10]
        #expect(parseRequests([ok], authenticated: false).requests.count == 1)
        let over = [UInt8](repeating: UInt8(ascii: "a"), count: 16 * Self.kib) + [10]
        #expect(parseRequests([over], authenticated: false).error == .requestTooLargeBeforeAuth)
        #expect(parseRequests([over], authenticated: true).requests.count == 1)
        // Rejected without waiting for the newline.
        var parser = RESPRequestParser()
        var buf = ByteBuffer(repeating: UInt8(ascii: "a"), count: 16 * Self.kib)
        #expect(throws: RESPProtocolError.requestTooLargeBeforeAuth) { try parser.next(&buf) }
    }

    // MARK: HTTP

    @Test(arguments: [
        "GET / HTTP/1.1\r\n",
        "POST /x HTTP/1.0\r\n",
        "PUT /a/b?c=d HTTP/1.1\r\n",
        "HEAD / HTTP/1.1\n",
        "DELETE /k HTTP/2\r\n",
        "OPTIONS * HTTP/1.1\r\n",
        "PATCH /p HTTP/1.1\r\n",
        "CONNECT example.com:443 HTTP/1.1\r\n",
        "TRACE / HTTP/1.1\r\n",
        "get / HTTP/1.1\r\n",
        "Host: localhost:6379\r\n",
        "host:localhost\r\n",
        "HOST: x\r\n",
    ])
    func httpRequestsGetADistinctError(input: String) {
        let error = expectSplitInvariant(bytes(input), authenticated: false).error
        #expect(error == .httpRequest)
        #expect(error?.kind == .httpRequest)
    }

    @Test func httpLineAfterValidRequestsStillDetected() {
        let outcome = expectSplitInvariant(bytes("PING\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n"))
        #expect(outcome.requests == [request("PING")])
        #expect(outcome.error == .httpRequest)
    }

    @Test(arguments: [
        ("GET key\r\n", ["GET", "key"]),
        ("GET / foo\r\n", ["GET", "/", "foo"]),
        ("POST\r\n", ["POST"]),
        ("SET / HTTP/1.1\r\n", ["SET", "/", "HTTP/1.1"]),
        ("GET HTTP/1.1 /\r\n", ["GET", "HTTP/1.1", "/"]),
        ("hostname: x\r\n", ["hostname:", "x"]),
        ("GETX / HTTP/1.1\r\n", ["GETX", "/", "HTTP/1.1"]),
    ])
    func redisCommandsThatMerelyLookHTTPish(input: String, expected: [String]) {
        let outcome = expectSplitInvariant(bytes(input), authenticated: false)
        #expect(outcome.error == nil)
        #expect(outcome.requests.map(strings) == [expected])
    }

    @Test func multibulkGETIsNeverHTTP() {
        let outcome = expectSplitInvariant(bytes("*3\r\n$3\r\nGET\r\n$1\r\n/\r\n$8\r\nHTTP/1.1\r\n"))
        #expect(outcome.requests == [request("GET", "/", "HTTP/1.1")])
    }
}
