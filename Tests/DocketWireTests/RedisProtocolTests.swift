import DocketWire
import NIOCore
import Testing

/// Ports of Redis' tests/unit/protocol.tcl, run against the parser with the
/// default limits. Every input is also checked at every split offset.
@Suite("Redis protocol.tcl")
struct RedisProtocolTests {
    @Test func handleAnEmptyQuery() {
        let outcome = expectSplitInvariant(bytes("\r\nPING\r\n"))
        #expect(outcome.requests == [request("PING")])
    }

    @Test func negativeMultibulkLengthIsSkipped() {
        let outcome = expectSplitInvariant(bytes("*-10\r\nPING\r\n"))
        #expect(outcome.requests == [request("PING")])
        #expect(outcome.error == nil)
    }

    @Test func outOfRangeMultibulkLength() {
        let error = expectSplitInvariant(bytes("*3000000000\r\n")).error
        #expect(error?.message == "invalid multibulk length")
        #expect(error?.reply == "ERR Protocol error: invalid multibulk length")
    }

    @Test func hugeMultibulkCount() {
        #expect(expectSplitInvariant(bytes("*20000000\r\n")).error == .multibulkLengthTooLarge)
        #expect(expectSplitInvariant(bytes("*1025\r\n")).error == .multibulkLengthTooLarge)
        // Beyond Int64: malformed.
        #expect(expectSplitInvariant(bytes("*99999999999999999999\r\n")).error == .invalidMultibulkLength)
    }

    @Test func wrongMultibulkPayloadHeader() {
        let error = expectSplitInvariant(bytes("*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n")).error
        #expect(error == .expectedDollar(got: UInt8(ascii: "f")))
        #expect(error?.message == "expected '$', got 'f'")
    }

    @Test func negativeMultibulkPayloadLength() {
        let error = expectSplitInvariant(bytes("*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$-10\r\n")).error
        #expect(error == .invalidBulkLength)
        #expect(error?.message == "invalid bulk length")
    }

    @Test func outOfRangeMultibulkPayloadLength() {
        // Rejected on the header: nothing of the 2 GB is ever expected.
        let outcome = expectSplitInvariant(bytes("*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$2000000000\r\n"))
        #expect(outcome.error == .bulkLengthTooLarge)
        #expect(outcome.error?.message == "invalid bulk length")
    }

    @Test func nonNumberMultibulkPayloadLength() {
        #expect(expectSplitInvariant(bytes("*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$blabla\r\n")).error == .invalidBulkLength)
    }

    @Test func multibulkRequestNotFollowedByBulkArguments() {
        let outcome = expectSplitInvariant(bytes("*1\r\nfoo\r\n"))
        #expect(outcome.error == .expectedDollar(got: UInt8(ascii: "f")))
        // Decided on the first byte: no line ending needed.
        #expect(parseRequests([bytes("*1\r\nf")]).error == .expectedDollar(got: UInt8(ascii: "f")))
    }

    @Test func unbalancedNumberOfQuotes() {
        let outcome = expectSplitInvariant(bytes("set \"\"\"test-key\"\"\" test-value\r\nping\r\n"))
        #expect(outcome.error == .unbalancedQuotes)
        #expect(outcome.error?.reply == "ERR Protocol error: unbalanced quotes in request")
        #expect(outcome.requests.isEmpty)
    }

    @Test(arguments: ["*\u{0}", "*abc\r\n", "*\r\n", "*-\r\n", "*01\r\n", "*-0\r\n", "*1 \r\n", "*+1\r\n"])
    func starFollowedByGarbage(input: String) {
        #expect(expectSplitInvariant(bytes(input)).error == .invalidMultibulkLength)
    }

    @Test(arguments: ["$\u{0}\r\n", "$\r\n", "$01\r\n", "$-1\r\n", "$1x\r\n"])
    func dollarFollowedByGarbage(input: String) {
        #expect(expectSplitInvariant(bytes("*1\r\n" + input)).error == .invalidBulkLength)
    }

    /// "Protocol desync regression test": after each sequence Redis' test keeps
    /// writing "payload" (no newline) until the server drops the connection.
    @Test(arguments: [
        ("\u{0}", RESPProtocolError.tooBigInlineRequest),
        ("*\u{0}", .invalidMultibulkLength),
        ("$\u{0}", .tooBigInlineRequest),
    ])
    func protocolDesyncRegression(sequence: String, expected: RESPProtocolError) {
        var parser = RESPRequestParser(authenticated: true)
        var buf = buffer(sequence)
        var sent = buf.readableBytes
        var caught: RESPProtocolError?
        let chunk = String(repeating: "payload", count: 147)  // ~1 KiB, like the Tcl test's writes
        while caught == nil && sent < 10 * 1024 * 1024 {
            do {
                #expect(try parser.next(&buf) == nil)
            } catch {
                caught = error
                break
            }
            buf.writeString(chunk)
            sent += chunk.utf8.count
        }
        #expect(caught == expected)
        // The connection is dropped within one write of the 64 KiB inline limit.
        #expect(sent <= RESPLimits.default.maxInlineLength + 1 + chunk.utf8.count)
        #expect(caught?.reply.hasPrefix("ERR Protocol error: ") == true)
    }
}
