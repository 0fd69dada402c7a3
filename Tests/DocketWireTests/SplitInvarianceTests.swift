import DocketWire
import NIOCore
import Testing

/// Every input, fed whole, split in two at every offset, or one byte at a
/// time, must produce the same requests and the same error.
@Suite("Split invariance")
struct SplitInvarianceTests {
    static let small = RESPLimits(
        maxInlineLength: 12, maxBulkLength: 8, maxArrayLength: 4, preAuthMaxArguments: 3, preAuthMaxBytes: 40)

    static let inputs: [String] = [
        "PING\r\n",
        "*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n",
        "SET k \"v v\"\r\nGET k\nDEL 'k'\r\n",
        "\r\n\r\n*0\r\n*-1\r\nPING\r\n",
        "*1\r\n$0\r\n\r\n",
        "*2\r\n$1\r\n\r\r\n$1\r\n\n\r\n",
        // Errors in the middle of pipelines.
        "PING\r\n*x\r\nPING\r\n",
        "PING\r\n*2\r\n$3\r\nGET\r\n:1\r\n",
        "PING\r\nSET \"a\r\n",
        "*1\r\n$2\r\nabc\r\n",
        "*1\r\n$-5\r\n",
        // Limits at and around their boundaries (with the small limits).
        "123456789012\r\n",
        "1234567890123\r\n",
        "1234567890\r\r\n",
        "123456789012\r\r\n",
        "1234567890123",
        "*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n",
        "*5\r\n",
        "*1\r\n$8\r\n12345678\r\n",
        "*1\r\n$9\r\n123456789\r\n",
        "*1\r\n$1",
        "GET / HTTP/1.1\r\n",
        "Host: x\r\n",
        "a b c d\r\n",
        "*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n",
        "*3\r\n$8\r\n12345678\r\n$8\r\n12345678\r\n$8\r\n12345678\r\n",
        "*2\r\n$8\r\n12345678\r\n$8\r\n12345678\r\n",
    ]

    @Test(arguments: inputs, [true, false])
    func sameOutcomeAtEverySplit(input: String, authenticated: Bool) {
        expectSplitInvariant(bytes(input), limits: Self.small, authenticated: authenticated)
        expectSplitInvariant(bytes(input), limits: .default, authenticated: authenticated)
    }

    /// Spot checks that the helper above compares something real: the
    /// outcomes of a few inputs, pinned down.
    @Test func pinnedOutcomes() {
        let s = Self.small
        #expect(expectSplitInvariant(bytes("123456789012\r\n"), limits: s).requests == [request("123456789012")])
        #expect(expectSplitInvariant(bytes("1234567890123\r\n"), limits: s).error == .tooBigInlineRequest)
        #expect(expectSplitInvariant(bytes("1234567890\r\r\n"), limits: s).requests == [request("1234567890")])
        #expect(expectSplitInvariant(bytes("123456789012\r\r\n"), limits: s).error == .tooBigInlineRequest)
        #expect(expectSplitInvariant(bytes("1234567890123"), limits: s).error == .tooBigInlineRequest)
        #expect(expectSplitInvariant(bytes("*1\r\n$1"), limits: s) == RequestOutcome(leftover: 2))
        #expect(expectSplitInvariant(bytes("a b c d\r\n"), limits: s, authenticated: false).error == .tooManyArgumentsBeforeAuth)
        #expect(expectSplitInvariant(bytes("*5\r\n"), limits: s, authenticated: false).error == .multibulkLengthTooLarge)
        #expect(expectSplitInvariant(bytes("*4\r\n"), limits: s, authenticated: false).error == .tooManyArgumentsBeforeAuth)
        // 4 + 2 × (4 + 8 + 2) = 32 bytes: fine; 4 + 3 × 14 = 46 > 40: too large.
        #expect(expectSplitInvariant(bytes("*2\r\n$8\r\n12345678\r\n$8\r\n12345678\r\n"), limits: s, authenticated: false)
            .requests.count == 1)
        #expect(expectSplitInvariant(bytes("*3\r\n$8\r\n12345678\r\n$8\r\n12345678\r\n$8\r\n12345678\r\n"), limits: s, authenticated: false)
            .error == .requestTooLargeBeforeAuth)
        #expect(expectSplitInvariant(bytes("PING\r\n*2\r\n$3\r\nGET\r\n:1\r\n")).error == .expectedDollar(got: UInt8(ascii: ":")))
    }

    @Test func helperDetectsAParserThatDependsOnSplits() {
        // Sanity check of the outcome comparison itself.
        let a = parseRequests([bytes("PING\r\n")])
        let b = parseRequests([bytes("PING\r")])
        #expect(a != b)
        #expect(b.leftover == 5)
    }
}
