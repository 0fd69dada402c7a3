import DocketWire
import NIOCore
import Testing

@Suite("RESPRequestParser: framing")
struct RESPRequestParserTests {
    @Test(arguments: [
        ("PING\r\n", [["PING"]]),
        ("PING\n", [["PING"]]),
        ("set k \"a b\"\r\n", [["set", "k", "a b"]]),
        ("ECHO 'it\\'s' \"\\x41\\n\"\r\n", [["ECHO", "it's", "A\n"]]),
        // Only the "\r" right before "\n" is stripped; other "\r" separate words.
        ("a\rb\r\n", [["a", "b"]]),
        ("a\r\r\n", [["a"]]),
        ("\"x\\r\"\r\n", [["x\r"]]),
    ])
    func inlineRequests(input: String, expected: [[String]]) {
        let outcome = expectSplitInvariant(bytes(input))
        #expect(outcome.error == nil)
        #expect(outcome.requests.map(strings) == expected)
        #expect(outcome.leftover == 0)
    }

    @Test func multibulkRequest() {
        let outcome = expectSplitInvariant(bytes("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n"))
        #expect(outcome.requests == [request("SET", "key", "value")])
        #expect(outcome.leftover == 0)
    }

    @Test func emptyBulkArgument() {
        let outcome = expectSplitInvariant(bytes("*2\r\n$4\r\nECHO\r\n$0\r\n\r\n"))
        #expect(outcome.requests == [request("ECHO", "")])
    }

    @Test func binarySafeBulk() {
        let payload: [UInt8] = [UInt8(ascii: "a"), 13, 10, 0, UInt8(ascii: "b"), 255, 42, 36]
        let input = bytes("*2\r\n$3\r\nSET\r\n$8\r\n") + payload + bytes("\r\n")
        let outcome = expectSplitInvariant(input)
        #expect(outcome.requests == [[ByteBuffer(string: "SET"), ByteBuffer(bytes: payload)]])
        #expect(outcome.error == nil)
    }

    @Test func pipelinedRequestsInOneBuffer() {
        let input = "PING\r\n*1\r\n$4\r\nPING\r\nECHO \"a b\"\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\nQUIT\n"
        let outcome = expectSplitInvariant(bytes(input))
        #expect(outcome.requests.map(strings) == [["PING"], ["PING"], ["ECHO", "a b"], ["GET", "k"], ["QUIT"]])
        #expect(outcome.leftover == 0)
    }

    @Test func emptyLinesAndBlankLinesAreIgnored() {
        let outcome = expectSplitInvariant(bytes("\r\n\n   \r\n\t\nPING\r\n\r\n"))
        #expect(outcome.requests == [request("PING")])
        #expect(outcome.leftover == 0)
    }

    @Test func emptyAndNullArraysAreIgnored() {
        let outcome = expectSplitInvariant(bytes("*0\r\n*-1\r\n*-10\r\nPING\r\n*0\r\n"))
        #expect(outcome.requests == [request("PING")])
        #expect(outcome.leftover == 0)
        #expect(outcome.error == nil)
    }

    @Test func ignoredInputNeverStallsAPipeline() throws {
        // next() must keep going past ignored lines instead of returning nil
        // with complete requests still buffered.
        var parser = RESPRequestParser()
        var buf = buffer("\r\n*0\r\n\r\nPING\r\n")
        #expect(try parser.next(&buf) == request("PING"))
        #expect(try parser.next(&buf) == nil)
        #expect(buf.readableBytes == 0)
    }

    @Test func incompleteInlineLineIsNotConsumed() throws {
        var parser = RESPRequestParser()
        var buf = buffer("PING\r\nPAR")
        #expect(try parser.next(&buf) == request("PING"))
        #expect(try parser.next(&buf) == nil)
        #expect(String(buffer: buf) == "PAR")
        #expect(!parser.isIdle)
        buf.writeString("T\r\n")
        #expect(try parser.next(&buf) == request("PART"))
        #expect(parser.isIdle)
    }

    @Test func incompleteMultibulkKeepsProgressInTheParser() throws {
        var parser = RESPRequestParser()
        var buf = buffer("*2\r\n$3\r\nGET\r\n$1")
        #expect(try parser.next(&buf) == nil)
        // Completed parts were consumed; the half header stays in the buffer.
        #expect(String(buffer: buf) == "$1")
        #expect(!parser.isIdle)
        buf.writeString("\r\nk")
        #expect(try parser.next(&buf) == nil)
        buf.writeString("\r\n")
        #expect(try parser.next(&buf) == request("GET", "k"))
        #expect(parser.isIdle)
        #expect(buf.readableBytes == 0)
    }

    @Test func inlineAndMultibulkInterleave() {
        let outcome = expectSplitInvariant(bytes("*1\r\n$1\r\na\r\nb\r\n*1\r\n$1\r\nc\r\n"))
        #expect(outcome.requests == [request("a"), request("b"), request("c")])
    }

    @Test func aLeadingSpaceMakesAStarLineInline() {
        let outcome = expectSplitInvariant(bytes(" *1\r\n"))
        #expect(outcome.requests == [request("*1")])
    }

    @Test func requestArgumentsAreNeverEmpty() {
        let outcome = expectSplitInvariant(bytes("\r\n \r\n*0\r\nA\r\n*1\r\n$0\r\n\r\n"))
        #expect(outcome.requests == [request("A"), request("")])
        #expect(outcome.requests.allSatisfy { !$0.isEmpty })
    }

    @Test func multibulkMustEndInCRLF() {
        #expect(expectSplitInvariant(bytes("*1\r\n$1\r\nab\r\n")).error == .invalidBulkTerminator)
        #expect(expectSplitInvariant(bytes("*1\r\n$1\r\na\n\r")).error == .invalidBulkTerminator)
        #expect(expectSplitInvariant(bytes("*1\r\n$1\n")).error == .invalidBulkLength)
        #expect(expectSplitInvariant(bytes("*1\n")).error == .invalidMultibulkLength)
    }

    @Test func unauthenticatedByDefault() {
        let parser = RESPRequestParser()
        #expect(parser.authenticated == false)
        #expect(parser.limits == .default)
        #expect(RESPRequestParser(authenticated: true).authenticated)
    }
}
