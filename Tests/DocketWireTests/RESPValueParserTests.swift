import DocketWire
import NIOCore
import Testing

@Suite("RESPValueParser")
struct RESPValueParserTests {
    @Test func parsesEveryRESP2Type() {
        #expect(parseValue("+OK\r\n") == .simpleString("OK"))
        #expect(parseValue("-WRONGTYPE Operation\r\n") == .error("WRONGTYPE Operation"))
        #expect(parseValue(":-12\r\n") == .integer(-12))
        #expect(parseValue("$5\r\nhello\r\n") == .bulk("hello"))
        #expect(parseValue("$-1\r\n") == .null)
        #expect(parseValue("*-1\r\n") == .nullArray)
        #expect(parseValue("*0\r\n") == .array([]))
        #expect(parseValue("*2\r\n$1\r\na\r\n*1\r\n:1\r\n") == .array(["a", [1]]))
    }

    @Test func parsesEveryRESP3Type() {
        #expect(parseValue("_\r\n") == .null)
        #expect(parseValue(",3.5\r\n") == .double(3.5))
        #expect(parseValue(",-inf\r\n") == .double(-.infinity))
        #expect(parseValue(",1e+20\r\n") == .double(1e20))
        #expect(parseValue("#t\r\n") == .boolean(true))
        #expect(parseValue("#f\r\n") == .boolean(false))
        #expect(parseValue("(-3492890328409238509324850943850943825024385\r\n")
            == .bigNumber("-3492890328409238509324850943850943825024385"))
        #expect(parseValue("!21\r\nSYNTAX invalid syntax\r\n") == .error("SYNTAX invalid syntax"))
        #expect(parseValue("=15\r\ntxt:Some string\r\n") == .verbatim(format: "txt", text: "Some string"))
        #expect(parseValue("%2\r\n+first\r\n:1\r\n+second\r\n:2\r\n")
            == .map([(.simpleString("first"), 1), (.simpleString("second"), 2)]))
        #expect(parseValue("%0\r\n") == .map([]))
        #expect(parseValue("~2\r\n+a\r\n#t\r\n") == .set([.simpleString("a"), .boolean(true)]))
        #expect(parseValue(">3\r\n+message\r\n+ch\r\n$2\r\nhi\r\n")
            == .push([.simpleString("message"), .simpleString("ch"), "hi"]))
    }

    @Test func attributesAreSkippedAtTopLevel() {
        #expect(parseValue("|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.19\r\n+OK\r\n") == .simpleString("OK"))
        #expect(parseValue("|0\r\n:5\r\n") == .integer(5))
    }

    @Test func attributesAreSkippedInsideAggregates() {
        // From the RESP3 spec: the attribute does not count as an element.
        let input = "*3\r\n:1\r\n:2\r\n|1\r\n+ttl\r\n:3600\r\n:3\r\n"
        #expect(parseValue(input) == .array([1, 2, 3]))
        #expect(parseValue("%1\r\n|1\r\n+a\r\n+b\r\n+k\r\n+v\r\n") == .map([(.simpleString("k"), .simpleString("v"))]))
        // An attribute before the last element of the last open aggregate.
        #expect(parseValue("*1\r\n*1\r\n|1\r\n+a\r\n*1\r\n:9\r\n:1\r\n") == .array([.array([1])]))
    }

    @Test func pipelinedRepliesComeOutOneAtATime() throws {
        var buf = buffer("+OK\r\n:1\r\n$1\r\nx\r\n+PAR")
        var parser = RESPValueParser()
        #expect(try parser.next(&buf) == .simpleString("OK"))
        #expect(try parser.next(&buf) == .integer(1))
        #expect(try parser.next(&buf) == .bulk("x"))
        #expect(try parser.next(&buf) == nil)
        buf.writeString("TIAL\r\n")
        #expect(try parser.next(&buf) == .simpleString("PARTIAL"))
        #expect(try parser.next(&buf) == nil)
    }

    @Test func binarySafeBulk() {
        let input = bytes("$4\r\n") + [0, 13, 10, 255] + bytes("\r\n")
        let outcome = parseValues([input])
        #expect(outcome.values == [.bulkString(ByteBuffer(bytes: [0, 13, 10, 255]))])
    }

    @Test func integerExtremes() {
        #expect(parseValue(":9223372036854775807\r\n") == .integer(.max))
        #expect(parseValue(":-9223372036854775808\r\n") == .integer(.min))
        #expect(valueError(":9223372036854775808\r\n") == .invalidReply("integer"))
        #expect(valueError(":-9223372036854775809\r\n") == .invalidReply("integer"))
    }

    @Test(arguments: [
        (":1.5\r\n", RESPProtocolError.invalidReply("integer")),
        (":01\r\n", .invalidReply("integer")),
        (":-0\r\n", .invalidReply("integer")),
        (":\r\n", .invalidReply("integer")),
        (":+1\r\n", .invalidReply("integer")),
        (":1\rx", .invalidReply("integer")),
        ("$abc\r\n", .invalidReply("bulk length")),
        ("$-2\r\n", .invalidReply("bulk length")),
        ("!-1\r\n", .invalidReply("bulk length")),
        ("*-2\r\n", .invalidReply("aggregate length")),
        ("%-1\r\n", .invalidReply("aggregate length")),
        ("$1\r\nab\r\n", .invalidReply("bulk terminator")),
        ("+OK\n", .invalidReply("line terminator")),
        ("+\n", .invalidReply("line terminator")),
        (",abc\r\n", .invalidReply("double")),
        (",\r\n", .invalidReply("double")),
        ("#x\r\n", .invalidReply("boolean")),
        ("#tt\r\n", .invalidReply("boolean")),
        ("_x\r\n", .invalidReply("null")),
        ("(12a\r\n", .invalidReply("big number")),
        ("(\r\n", .invalidReply("big number")),
        ("(-\r\n", .invalidReply("big number")),
        ("=3\r\ntxt\r\n", .invalidReply("verbatim string")),
        ("=4\r\ntxt;\r\n", .invalidReply("verbatim string")),
        ("$?\r\n", .streamedNotSupported),
        ("*?\r\n", .streamedNotSupported),
        ("@foo\r\n", .unknownReplyType(UInt8(ascii: "@"))),
        ("\r\n", .unknownReplyType(13)),
    ])
    func malformedReplies(input: String, expected: RESPProtocolError) {
        let error = expectValueSplitInvariant(bytes(input)).error
        #expect(error == expected)
        #expect(error?.kind == .malformed)
    }

    @Test func bulkLengthLimitIsCheckedOnTheHeader() {
        let parser = RESPValueParser(maxBulkLength: 4)
        #expect(parseValues([bytes("$4\r\nabcd\r\n")], parser: parser).values == [.bulk("abcd")])
        // Rejected with no payload sent at all.
        #expect(valueError("$5\r\n", parser: parser) == .replyTooLarge("bulk string"))
        #expect(valueError("=9\r\n", parser: parser) == .replyTooLarge("bulk string"))
        #expect(valueError("$99999999999\r\n", parser: parser)?.kind == .limit)
    }

    @Test func aggregateLengthLimitIsCheckedOnTheHeader() {
        let parser = RESPValueParser(maxAggregateLength: 2)
        #expect(parseValues([bytes("*2\r\n:1\r\n:2\r\n")], parser: parser).values == [[1, 2]])
        #expect(parseValues([bytes("%2\r\n:1\r\n:2\r\n:3\r\n:4\r\n")], parser: parser).values == [.map([(1, 2), (3, 4)])])
        for header in ["*3\r\n", "%3\r\n", "~3\r\n", ">3\r\n", "|3\r\n"] {
            #expect(valueError(header, parser: parser) == .replyTooLarge("aggregate"), "\(header)")
        }
    }

    @Test func nestingDepthIsBounded() {
        let parser = RESPValueParser(maxDepth: 64)
        let ok = String(repeating: "*1\r\n", count: 64) + ":1\r\n"
        var expected: RESPValue = 1
        for _ in 0..<64 { expected = [expected] }
        #expect(parseValues([bytes(ok)], parser: parser).values == [expected])
        let tooDeep = String(repeating: "*1\r\n", count: 65)
        #expect(valueError(tooDeep, parser: parser) == .nestingTooDeep)
        // Empty aggregates do not open a level.
        #expect(parseValues([bytes(String(repeating: "*1\r\n", count: 64) + "*0\r\n")], parser: parser).error == nil)
    }

    @Test func defaultDepthRejectsAHugeNesting() {
        // 100,000 nested arrays must fail fast, not recurse or buffer them all.
        let input = bytes(String(repeating: "*1\r\n", count: 100_000))
        let outcome = parseValues([input])
        #expect(outcome.error == .nestingTooDeep)
    }

    @Test func simpleLineLengthIsBounded() {
        let parser = RESPValueParser(maxBulkLength: 10)
        #expect(parseValues([bytes("+0123456789\r\n")], parser: parser).values == [.simpleString("0123456789")])
        // 12 bytes after "+" with no "\n": rejected before any newline arrives.
        #expect(valueError("+012345678901", parser: parser) == .replyTooLarge("line"))
        // 10 content bytes and the "\r" still waiting for "\n": fine.
        #expect(parseValues([bytes("+0123456789\r")], parser: parser) == ValueOutcome(values: [], error: nil, leftover: 12))
        // Numeric lines have a fixed small bound.
        #expect(valueError("," + String(repeating: "1", count: 2000)) == .replyTooLarge("line"))
    }

    @Test func splitAtEveryOffsetGivesTheSameValues() {
        let input =
            "*3\r\n$3\r\nfoo\r\n%1\r\n+k\r\n~2\r\n,1.5\r\n#f\r\n|1\r\n+a\r\n:1\r\n(123\r\n"
            + "=8\r\ntxt:a\r\nb\r\n-ERR x\r\n>2\r\n+message\r\n$-1\r\n*-1\r\n_\r\n!3\r\nERR\r\n"
        let outcome = expectValueSplitInvariant(bytes(input))
        #expect(outcome.error == nil)
        #expect(outcome.leftover == 0)
        #expect(outcome.values == [
            .array(["foo", .map([(.simpleString("k"), .set([.double(1.5), .boolean(false)]))]), .bigNumber("123")]),
            .verbatim(format: "txt", text: "a\r\nb"),
            .error("ERR x"),
            .push([.simpleString("message"), .null]),
            .nullArray,
            .null,
            .error("ERR"),
        ])
    }

    @Test func incompleteInputConsumesOnlyWhatItParsed() throws {
        var buf = buffer("*2\r\n:1\r\n:")
        var parser = RESPValueParser()
        #expect(try parser.next(&buf) == nil)
        // The header and the first element are kept in the parser's state.
        #expect(String(buffer: buf) == ":")
        buf.writeString("2\r\n")
        #expect(try parser.next(&buf) == [1, 2])
    }
}
