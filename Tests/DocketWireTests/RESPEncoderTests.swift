import DocketWire
import NIOCore
import Testing

@Suite("RESPEncoder")
struct RESPEncoderTests {
    /// (value, RESP2 bytes, RESP3 bytes)
    static let cases: [(RESPValue, String, String)] = [
        (.simpleString("OK"), "+OK\r\n", "+OK\r\n"),
        (.error("ERR unknown command"), "-ERR unknown command\r\n", "-ERR unknown command\r\n"),
        (.integer(0), ":0\r\n", ":0\r\n"),
        (.integer(-42), ":-42\r\n", ":-42\r\n"),
        (.integer(9), ":9\r\n", ":9\r\n"),
        (.integer(10), ":10\r\n", ":10\r\n"),
        (.integer(-7), ":-7\r\n", ":-7\r\n"),
        (.integer(.max), ":9223372036854775807\r\n", ":9223372036854775807\r\n"),
        (.integer(.min), ":-9223372036854775808\r\n", ":-9223372036854775808\r\n"),
        (.bulk("foo"), "$3\r\nfoo\r\n", "$3\r\nfoo\r\n"),
        (.bulk(""), "$0\r\n\r\n", "$0\r\n\r\n"),
        (.bulk("é"), "$2\r\né\r\n", "$2\r\né\r\n"),
        (.bulk("a\r\nb\0"), "$5\r\na\r\nb\0\r\n", "$5\r\na\r\nb\0\r\n"),
        (.null, "$-1\r\n", "_\r\n"),
        (.nullArray, "*-1\r\n", "_\r\n"),
        (.array([]), "*0\r\n", "*0\r\n"),
        (.array([1, "a"]), "*2\r\n:1\r\n$1\r\na\r\n", "*2\r\n:1\r\n$1\r\na\r\n"),
        (
            .map([("a", 1), ("b", .boolean(true))]),
            "*4\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n:1\r\n",
            "%2\r\n$1\r\na\r\n:1\r\n$1\r\nb\r\n#t\r\n"
        ),
        (.map([]), "*0\r\n", "%0\r\n"),
        (.set(["x"]), "*1\r\n$1\r\nx\r\n", "~1\r\n$1\r\nx\r\n"),
        (.double(1.5), "$3\r\n1.5\r\n", ",1.5\r\n"),
        (.double(3), "$1\r\n3\r\n", ",3\r\n"),
        (.double(-0.25), "$5\r\n-0.25\r\n", ",-0.25\r\n"),
        (.double(1e20), "$5\r\n1e+20\r\n", ",1e+20\r\n"),
        (.double(.infinity), "$3\r\ninf\r\n", ",inf\r\n"),
        (.double(-.infinity), "$4\r\n-inf\r\n", ",-inf\r\n"),
        (.double(.nan), "$3\r\nnan\r\n", ",nan\r\n"),
        (.boolean(true), ":1\r\n", "#t\r\n"),
        (.boolean(false), ":0\r\n", "#f\r\n"),
        (
            .bigNumber("3492890328409238509324850943850943825024385"),
            "$43\r\n3492890328409238509324850943850943825024385\r\n",
            "(3492890328409238509324850943850943825024385\r\n"
        ),
        (.verbatim(format: "txt", text: "Some string"), "$11\r\nSome string\r\n", "=15\r\ntxt:Some string\r\n"),
        (.verbatim(format: "mkd", text: ""), "$0\r\n\r\n", "=4\r\nmkd:\r\n"),
        (.push(["message", "ch", "hi"]), "*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n", ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"),
        (
            .array([.map([("k", .set([.null]))]), .double(2)]),
            "*2\r\n*2\r\n$1\r\nk\r\n*1\r\n$-1\r\n$1\r\n2\r\n",
            "*2\r\n%1\r\n$1\r\nk\r\n~1\r\n_\r\n,2\r\n"
        ),
    ]

    @Test(arguments: cases)
    func exactBytes(value: RESPValue, resp2: String, resp3: String) {
        #expect(encoded(value, .resp2) == resp2)
        #expect(encoded(value, .resp3) == resp3)
    }

    @Test func encodingAppendsToExistingBytes() {
        var out = ByteBuffer(string: "prefix")
        RESPEncoder.encode(.integer(1), as: .resp2, into: &out)
        RESPEncoder.encode(.boolean(true), as: .resp3, into: &out)
        #expect(String(buffer: out) == "prefix:1\r\n#t\r\n")
    }

    @Test(arguments: [
        (RESPValue.simpleString("a\r\nb"), "+a  b\r\n"),
        (.simpleString("line1\nline2"), "+line1 line2\r\n"),
        (.error("ERR bad\r\nvalue"), "-ERR bad  value\r\n"),
        (.error("ERR\rx"), "-ERR x\r\n"),
    ])
    func lineTypesNeverContainCRLF(value: RESPValue, expected: String) {
        #expect(encoded(value, .resp2) == expected)
        #expect(encoded(value, .resp3) == expected)
    }

    @Test func bigNumberLineIsSanitisedInRESP3() {
        #expect(encoded(.bigNumber("12\r\n3"), .resp3) == "(12  3\r\n")
    }

    @Test func verbatimWithInvalidFormatFallsBackToTxt() {
        #expect(encoded(.verbatim(format: "markdown", text: "x"), .resp3) == "=5\r\ntxt:x\r\n")
        #expect(encoded(.verbatim(format: "a:b", text: "x"), .resp3) == "=5\r\ntxt:x\r\n")
        #expect(encoded(.verbatim(format: "", text: "x"), .resp3) == "=5\r\ntxt:x\r\n")
    }

    @Test func verbatimLengthCountsUTF8Bytes() {
        #expect(encoded(.verbatim(format: "txt", text: "é"), .resp3) == "=6\r\ntxt:é\r\n")
    }

    @Test func encodeCommandWithStrings() {
        var out = ByteBuffer()
        RESPEncoder.encodeCommand(["SET", "key", "vålue"], into: &out)
        #expect(String(buffer: out) == "*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$6\r\nvålue\r\n")
    }

    @Test func encodeCommandWithBinaryBuffers() {
        var out = ByteBuffer()
        var arg = ByteBuffer(string: "xx")
        arg.moveReaderIndex(forwardBy: 1)  // only readable bytes count
        RESPEncoder.encodeCommand([ByteBuffer(string: "ECHO"), ByteBuffer(bytes: [0, 13, 10, 255]), arg], into: &out)
        #expect(Array(out.readableBytesView) == bytes("*3\r\n$4\r\nECHO\r\n$4\r\n") + [0, 13, 10, 255] + bytes("\r\n$1\r\nx\r\n"))
    }

    @Test func encodeEmptyCommand() {
        var out = ByteBuffer()
        RESPEncoder.encodeCommand([String](), into: &out)
        #expect(String(buffer: out) == "*0\r\n")
    }

    @Test func encodedCommandParsesBackAsTheSameRequest() throws {
        let args = ["SET", "k", "a b\r\n\"c\"", ""]
        var out = ByteBuffer()
        RESPEncoder.encodeCommand(args, into: &out)
        var parser = RESPRequestParser()
        #expect(try parser.next(&out).map(strings) == args)
        #expect(out.readableBytes == 0)
    }

    @Test func protocolErrorReplyEncodesAsRedisDoes() {
        #expect(RESPProtocolError.invalidMultibulkLength.reply == "ERR Protocol error: invalid multibulk length")
        #expect(
            encoded(.error(RESPProtocolError.expectedDollar(got: UInt8(ascii: "f")).reply), .resp2)
                == "-ERR Protocol error: expected '$', got 'f'\r\n")
        #expect(RESPProtocolError.expectedDollar(got: 0).message == "expected '$', got '\\x00'")
        #expect(RESPProtocolError.expectedDollar(got: 13).message == "expected '$', got '\\x0d'")
    }

    /// Each piece `RESPRawWriter` writes is what `encode` writes for the same value, in both
    /// versions; a reply of several pieces goes after what the buffer held.
    @Test(arguments: [RESPVersion.resp2, .resp3])
    func rawWriterPiecesMatchEncode(version: RESPVersion) {
        func encoded(_ value: RESPValue) -> [UInt8] {
            var b = ByteBufferAllocator().buffer(capacity: 16)
            RESPEncoder.encode(value, as: version, into: &b)
            return Array(b.readableBytesView)
        }
        func written(_ body: (inout RESPRawWriter) -> Void) -> [UInt8] {
            var b = ByteBufferAllocator().buffer(capacity: 0)
            RESPEncoder.write(as: version, into: &b, body)
            return Array(b.readableBytesView)
        }
        for n: Int64 in [0, 9, 10, -1, -7, -42, 1_234_567, .max, .min] {
            #expect(written { $0.integer(n) } == encoded(.integer(n)), "\(n)")
        }
        for text in ["", "foo", "é", "a\r\nb\0", String(repeating: "x", count: 1_000), "villes durables ✓"] {
            #expect(written { $0.bulk(text) } == encoded(.bulk(text)), "\(text.prefix(10))")
            #expect(written { $0.bulk(Optional(text)) } == encoded(.bulk(text)))
        }
        #expect(written { $0.bulk(String?.none) } == encoded(.null))
        #expect(written { $0.key("created_at") } == encoded(.bulk("created_at")))
        #expect(written { $0.boolean(true) } == encoded(.boolean(true)))
        #expect(written { $0.boolean(false) } == encoded(.boolean(false)))
        let map: RESPValue = .map([("a", 1), ("b", .array(["x", "yz"]))])
        #expect(written { w in
            w.mapHeader(count: 2)
            w.key("a"); w.integer(1)
            w.key("b"); w.arrayHeader(count: 2); w.bulk("x"); w.bulk("yz")
        } == encoded(map))

        var buffer = ByteBufferAllocator().buffer(capacity: 4)
        buffer.writeString("+OK\r\n")
        RESPEncoder.write(as: version, into: &buffer) { $0.bulk("after") }
        #expect(buffer.readString(length: buffer.readableBytes) == "+OK\r\n$5\r\nafter\r\n")
    }

    /// A body that writes more on its second pass than it measured on its first stops at the
    /// end of the reserved space instead of writing past it.
    @Test func rawWriterStopsABodyThatWritesMoreThanItMeasured() async {
        let result = await #expect(processExitsWith: .failure, observing: [\.standardErrorContent]) {
            var pass = 0
            var buffer = ByteBufferAllocator().buffer(capacity: 0)
            RESPEncoder.write(as: .resp3, into: &buffer) { w in
                pass += 1
                w.bulk(pass == 1 ? "short" : String(repeating: "long", count: 10_000))
            }
        }
        // Stopped by the bounds check while writing, not by the size check after it.
        let stderr = String(decoding: result?.standardErrorContent ?? [], as: UTF8.self)
        #expect(stderr.contains("wrote more than it measured"))
    }
}

