import DocketWire
import NIOCore
import Testing

/// Encode with ``RESPEncoder``, parse back with ``RESPValueParser``.
@Suite("Round trips")
struct RESPRoundTripTests {
    /// (value, what a RESP2 client reads back). RESP3 reads back the value itself.
    static let cases: [(RESPValue, RESPValue)] = [
        (.simpleString("OK"), .simpleString("OK")),
        (.simpleString(""), .simpleString("")),
        (.error("ERR something went wrong"), .error("ERR something went wrong")),
        (.integer(0), .integer(0)),
        (.integer(.max), .integer(.max)),
        (.integer(.min), .integer(.min)),
        (.bulk("hello"), .bulk("hello")),
        (.bulk(""), .bulk("")),
        (.bulkString(ByteBuffer(bytes: [0, 13, 10, 36, 42, 255])), .bulkString(ByteBuffer(bytes: [0, 13, 10, 36, 42, 255]))),
        (.null, .null),
        (.array([]), .array([])),
        (.array([1, "two", .simpleString("three"), .null]), .array([1, "two", .simpleString("three"), .null])),
        (.map([]), .array([])),
        (.map([("a", 1), ("b", .boolean(false))]), .array(["a", 1, "b", 0])),
        (.map([(.integer(1), .map([("n", .double(2.5))]))]), .array([1, .array(["n", "2.5"])])),
        (.set([]), .array([])),
        (.set(["x", "y"]), .array(["x", "y"])),
        (.double(0), .bulk("0")),
        (.double(3.25), .bulk("3.25")),
        (.double(-1e-7), .bulk("-1e-07")),
        (.double(.infinity), .bulk("inf")),
        (.double(-.infinity), .bulk("-inf")),
        (.double(1.7976931348623157e308), .bulk("1.7976931348623157e+308")),
        (.boolean(true), .integer(1)),
        (.boolean(false), .integer(0)),
        (.bigNumber("-123456789012345678901234567890"), .bulk("-123456789012345678901234567890")),
        (.verbatim(format: "txt", text: "Some string"), .bulk("Some string")),
        (.verbatim(format: "mkd", text: "# Title\r\nline"), .bulk("# Title\r\nline")),
        (.push(["pubsub", "message", 1]), .array(["pubsub", "message", 1])),
        (.push([]), .array([])),
        (
            .array([.set([.map([("deep", .array([.boolean(true), .null]))])])]),
            .array([.array([.array(["deep", .array([1, .null])])])])
        ),
    ]

    @Test(arguments: cases)
    func resp3ReadsBackTheSameValue(value: RESPValue, resp2: RESPValue) throws {
        var out = ByteBuffer()
        RESPEncoder.encode(value, as: .resp3, into: &out)
        var parser = RESPValueParser()
        #expect(try parser.next(&out) == value)
        #expect(out.readableBytes == 0)
    }

    @Test(arguments: cases)
    func resp2ReadsBackTheDowngradedValue(value: RESPValue, resp2: RESPValue) throws {
        var out = ByteBuffer()
        RESPEncoder.encode(value, as: .resp2, into: &out)
        // A RESP2 encoding must only use RESP2 type bytes.
        #expect(Self.typeBytes(of: out).isSubset(of: Set("+-:$*".utf8)), "\(String(buffer: out))")
        var parser = RESPValueParser()
        #expect(try parser.next(&out) == resp2)
        #expect(out.readableBytes == 0)
    }

    @Test func nullArrayIsRESP2Only() throws {
        // RESP3 has a single null, so a null array reads back as `.null`.
        var resp3 = ByteBuffer()
        RESPEncoder.encode(.array([.nullArray]), as: .resp3, into: &resp3)
        var parser = RESPValueParser()
        #expect(try parser.next(&resp3) == .array([.null]))
        var resp2 = ByteBuffer()
        RESPEncoder.encode(.array([.nullArray]), as: .resp2, into: &resp2)
        #expect(try parser.next(&resp2) == .array([.nullArray]))
    }

    @Test func nanRoundTrips() throws {
        var out = ByteBuffer()
        RESPEncoder.encode(.double(.nan), as: .resp3, into: &out)
        var parser = RESPValueParser()
        let value = try parser.next(&out)
        guard case .double(let d) = value else {
            Issue.record("expected a double, got \(String(describing: value))")
            return
        }
        #expect(d.isNaN)
    }

    @Test func doublesRoundTripExactly() throws {
        var rng = SeededGenerator(seed: 7)
        for _ in 0..<2000 {
            let d = Double(bitPattern: rng.next())
            guard d.isFinite else { continue }
            var out = ByteBuffer()
            RESPEncoder.encode(.double(d), as: .resp3, into: &out)
            var parser = RESPValueParser()
            #expect(try parser.next(&out) == .double(d), "\(d)")
        }
    }

    @Test func pipelinedRepliesParseInOrderAtEveryOffset() {
        var out = ByteBuffer()
        for (value, _) in Self.cases {
            RESPEncoder.encode(value, as: .resp3, into: &out)
        }
        let outcome = expectValueSplitInvariant(Array(out.readableBytesView))
        #expect(outcome.values == Self.cases.map(\.0))
        #expect(outcome.error == nil)
        #expect(outcome.leftover == 0)
    }

    /// The type byte of every element in a RESP2 encoding (walked by a
    /// minimal independent reader, so the check does not trust the parser).
    static func typeBytes(of buffer: ByteBuffer) -> Set<UInt8> {
        var b = buffer
        var types = Set<UInt8>()
        func readLine() -> String {
            var line = [UInt8]()
            while let c = b.readInteger(as: UInt8.self), c != 13 { line.append(c) }
            _ = b.readInteger(as: UInt8.self)
            return String(decoding: line, as: UTF8.self)
        }
        func walk() {
            guard let t = b.readInteger(as: UInt8.self) else { return }
            types.insert(t)
            let line = readLine()
            switch t {
            case UInt8(ascii: "$"):
                let n = Int(line)!
                if n >= 0 { b.moveReaderIndex(forwardBy: n + 2) }
            case UInt8(ascii: "*"):
                for _ in 0..<max(Int(line)!, 0) { walk() }
            default: break
            }
        }
        walk()
        return types
    }
}
