import DocketWire
import NIOCore
import Testing

@Suite("RESPValue")
struct RESPValueTests {
    @Test func bulkConvenienceHoldsUTF8Bytes() {
        #expect(RESPValue.bulk("héllo") == .bulkString(ByteBuffer(bytes: Array("héllo".utf8))))
        #expect(RESPValue.bulk("") == .bulkString(ByteBuffer()))
    }

    @Test func literalsBuildBulkIntegerAndArray() {
        let s: RESPValue = "GET"
        let i: RESPValue = -7
        let a: RESPValue = ["k", 1, [2]]
        #expect(s == .bulkString(ByteBuffer(string: "GET")))
        #expect(i == .integer(-7))
        #expect(a == .array([.bulk("k"), .integer(1), .array([.integer(2)])]))
    }

    @Test(arguments: [
        (RESPValue.simpleString("OK"), "OK" as String?),
        (.bulk("payload"), "payload"),
        (.verbatim(format: "txt", text: "some text"), "some text"),
        (.error("ERR x"), nil),
        (.integer(1), nil),
        (.null, nil),
        (.bigNumber("1"), nil),
    ])
    func stringAccessor(value: RESPValue, expected: String?) {
        #expect(value.string == expected)
    }

    @Test func intAccessorOnlyForIntegers() {
        #expect(RESPValue.integer(.min).int == .min)
        #expect(RESPValue.bulk("5").int == nil)
        #expect(RESPValue.boolean(true).int == nil)
        #expect(RESPValue.double(5).int == nil)
    }

    @Test func arrayAccessorCoversArraySetAndPush() {
        let elements: [RESPValue] = [1, "a"]
        #expect(RESPValue.array(elements).array == elements)
        #expect(RESPValue.set(elements).array == elements)
        #expect(RESPValue.push(elements).array == elements)
        #expect(RESPValue.map([(1, "a")]).array == nil)
        #expect(RESPValue.nullArray.array == nil)
        #expect(RESPValue.null.array == nil)
    }

    @Test func mapEqualityIsOrderedAndPairwise() {
        let a = RESPValue.map([("a", 1), ("b", 2)])
        #expect(a == .map([("a", 1), ("b", 2)]))
        #expect(a != .map([("b", 2), ("a", 1)]))
        #expect(a != .map([("a", 1), ("b", 3)]))
        #expect(a != .map([("a", 1)]))
        #expect(a != .map([("a", 1), ("b", 2), ("c", 3)]))
        #expect(a != .array(["a", 1, "b", 2]))
        #expect(a.hashValue == RESPValue.map([("a", 1), ("b", 2)]).hashValue)
    }

    @Test func distinctCasesWithSimilarPayloadsDiffer() {
        #expect(RESPValue.simpleString("x") != .bulk("x"))
        #expect(RESPValue.simpleString("x") != .error("x"))
        #expect(RESPValue.bulk("x") != .verbatim(format: "txt", text: "x"))
        #expect(RESPValue.array([]) != .set([]))
        #expect(RESPValue.array([]) != .push([]))
        #expect(RESPValue.set([]) != .push([]))
        #expect(RESPValue.null != .nullArray)
        #expect(RESPValue.boolean(true) != .integer(1))
        #expect(RESPValue.bigNumber("1") != .integer(1))
        #expect(RESPValue.double(1) != .integer(1))
        #expect(RESPValue.verbatim(format: "txt", text: "x") != .verbatim(format: "mkd", text: "x"))
    }

    @Test func hashableInSets() {
        let values: Set<RESPValue> = [
            .map([("a", 1)]), .map([("a", 1)]), .map([("a", 2)]),
            .bulk("x"), "x", .simpleString("x"),
            .null, .nullArray, .double(0.0), .double(-0.0),
        ]
        // Duplicates: the second map, the "x" literal (a bulk) and -0.0 (== 0.0).
        #expect(values.count == 7)
    }

    @Test func doubleEqualityFollowsIEEE() {
        #expect(RESPValue.double(.nan) != .double(.nan))
        #expect(RESPValue.double(1.5) == .double(1.5))
    }

    @Test func descriptionIsReadable() {
        let value: RESPValue = .array([
            .simpleString("OK"), .error("ERR no"), .integer(3), .bulk("a \"q\"\r\n\u{1}"),
            .null, .nullArray, .map([("k", .boolean(true))]), .set([.double(1.5)]),
            .bigNumber("12345678901234567890"), .verbatim(format: "txt", text: "hi"),
            .push(["message"]), .boolean(false),
        ])
        #expect(
            value.description
                == #"[+OK, -ERR no, :3, "a \"q\"\r\n\x01", (nil), (nil array), {"k": (true)}, ~[(double) 1.5], (big) 12345678901234567890, (txt) "hi", >["message"], (false)]"#
        )
    }
}
