import DocketWire
import NIOCore
import NIOTestUtils
import Testing

@Suite("NIO decoders")
struct DecoderTests {
    static let requestPairs: [(ByteBuffer, [[ByteBuffer]])] = [
        (buffer("PING\r\n"), [request("PING")]),
        (buffer("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nv\r\n\0x\r\n"), [request("SET", "k", "v\r\n\0x")]),
        (buffer("GET k\r\nECHO \"a b\"\r\n"), [request("GET", "k"), request("ECHO", "a b")]),
        (buffer("\r\n"), []),
        (buffer("*0\r\n"), []),
        (buffer("*-1\r\n*1\r\n$4\r\nQUIT\r\n"), [request("QUIT")]),
        (buffer("'single' \"\\x41\"\n"), [request("single", "A")]),
    ]

    @Test func requestDecoderPassesTheNIOVerifier() throws {
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: Self.requestPairs) {
            RESPRequestDecoder(authenticated: false)
        }
    }

    @Test func verifierCatchesAWrongExpectation() {
        #expect(throws: (any Error).self) {
            try ByteToMessageDecoderVerifier.verifyDecoder(
                inputOutputPairs: [(buffer("PING\r\n"), [request("PONG")])]
            ) { RESPRequestDecoder() }
        }
    }

    @Test func valueDecoderPassesTheNIOVerifier() throws {
        let values: [RESPValue] = [
            .simpleString("OK"), .error("ERR x"), 42, "bulk", .null, [1, [2, "x"]],
            .map([("k", .boolean(true))]), .set([.double(0.5)]), .bigNumber("9"), .verbatim(format: "txt", text: "t"),
            .push(["message"]),
        ]
        var pairs: [(ByteBuffer, [RESPValue])] = values.map { value in
            var out = ByteBuffer()
            RESPEncoder.encode(value, as: .resp3, into: &out)
            return (out, [value])
        }
        pairs.append((buffer("|1\r\n+a\r\n+b\r\n:7\r\n"), [7]))
        pairs.append((buffer("*-1\r\n"), [.nullArray]))
        pairs.append((buffer("+a\r\n+b\r\n"), [.simpleString("a"), .simpleString("b")]))
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { RESPValueDecoder() }
    }

    @Test func sessionFlipsAuthenticationThroughTheSharedDecoder() throws {
        // The handler and the session share the decoder instance; a flip made
        // while handling AUTH applies to the next request already buffered.
        let decoder = RESPRequestDecoder()
        let processor = NIOSingleStepByteToMessageProcessor(decoder)
        var input = buffer("AUTH pw\r\n")
        var big = ByteBuffer()
        RESPEncoder.encodeCommand(["SET", "k", String(repeating: "v", count: 17 * 1024)], into: &big)
        input.writeBuffer(&big)
        var received: [[String]] = []
        try processor.process(buffer: input) { request in
            received.append(strings(request).map { String($0.prefix(8)) })
            if received.count == 1 { decoder.authenticated = true }
        }
        #expect(received == [["AUTH", "pw"], ["SET", "k", "vvvvvvvv"]])
        #expect(decoder.authenticated)
        #expect(decoder.parser.authenticated)
    }

    @Test func withoutTheFlipTheSameBytesAreRejected() {
        let decoder = RESPRequestDecoder()
        let processor = NIOSingleStepByteToMessageProcessor(decoder)
        var input = buffer("AUTH pw\r\n")
        var big = ByteBuffer()
        RESPEncoder.encodeCommand(["SET", "k", String(repeating: "v", count: 17 * 1024)], into: &big)
        input.writeBuffer(&big)
        var count = 0
        #expect(throws: RESPProtocolError.requestTooLargeBeforeAuth) {
            try processor.process(buffer: input) { _ in count += 1 }
        }
        #expect(count == 1)
    }

    @Test func decoderLimitsAreAdjustable() {
        let decoder = RESPRequestDecoder(limits: RESPLimits(maxArrayLength: 1), authenticated: true)
        #expect(decoder.limits.maxArrayLength == 1)
        decoder.limits.maxArrayLength = 5
        #expect(decoder.parser.limits.maxArrayLength == 5)
        let processor = NIOSingleStepByteToMessageProcessor(decoder)
        var count = 0
        #expect(throws: Never.self) {
            try processor.process(buffer: buffer("*2\r\n$1\r\na\r\n$1\r\nb\r\n")) { _ in count += 1 }
        }
        #expect(count == 1)
    }

    @Test func decodeLastDeliversCompleteRequestsAndDropsAPartialOne() throws {
        let decoder = RESPRequestDecoder(authenticated: true)
        let processor = NIOSingleStepByteToMessageProcessor(decoder)
        var received: [[ByteBuffer]] = []
        try processor.process(buffer: buffer("PING\r\n*2\r\n$3\r\nGET")) { received.append($0) }
        try processor.finishProcessing(seenEOF: true) { received.append($0) }
        #expect(received == [request("PING")])
    }
}
