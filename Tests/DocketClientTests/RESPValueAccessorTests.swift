import DocketClient
import DocketWire
import NIOCore
import Testing

@Suite("RESPValue reading helpers")
struct RESPValueAccessorTests {
    @Test("mapValue reads a RESP2 flat array of pairs")
    func mapFromFlatArray() throws {
        let value: RESPValue = [.bulk("server"), .bulk("docket"), .simpleString("proto"), .integer(2)]
        let map = try #require(value.mapValue)
        #expect(map.count == 2)
        #expect(map["server"] == .bulk("docket"))
        #expect(map["proto"]?.intValue == 2)
        #expect(value["server"]?.stringValue == "docket")
        #expect(value["missing"] == nil)
    }

    @Test("mapValue reads a RESP3 map; the first of repeated keys wins")
    func mapFromMap() throws {
        let value = RESPValue.map([
            (.bulk("a"), .integer(1)), (.simpleString("b"), .boolean(true)), (.bulk("a"), .integer(9)),
        ])
        let map = try #require(value.mapValue)
        #expect(map == ["a": .integer(1), "b": .boolean(true)])
        #expect(value["a"] == .integer(1))
        #expect(value["b"]?.boolValue == true)
    }

    @Test("mapValue is nil for odd arrays, non-string keys and non-maps")
    func mapRejects() {
        let odd: RESPValue = [.bulk("a"), .integer(1), .bulk("b")]
        #expect(odd.mapValue == nil)
        let intKey: RESPValue = [.integer(1), .bulk("x")]
        #expect(intKey.mapValue == nil)
        #expect(RESPValue.map([(.integer(1), .null)]).mapValue == nil)
        #expect(RESPValue.bulk("a").mapValue == nil)
        #expect(RESPValue.bulk("a")["a"] == nil)
        #expect(RESPValue.array([]).mapValue == [:])
    }

    @Test("scalar helpers accept RESP2 downgrades")
    func scalars() {
        #expect(RESPValue.boolean(false).boolValue == false)
        #expect(RESPValue.integer(1).boolValue == true)
        #expect(RESPValue.integer(0).boolValue == false)
        #expect(RESPValue.integer(2).boolValue == nil)
        #expect(RESPValue.bulk("1").boolValue == nil)

        #expect(RESPValue.integer(42).intValue == 42)
        #expect(RESPValue.bulk("-7").intValue == -7)
        #expect(RESPValue.bigNumber("123").intValue == 123)
        #expect(RESPValue.bigNumber("123456789012345678901234567890").intValue == nil)
        #expect(RESPValue.bulk("x").intValue == nil)
        #expect(RESPValue.double(1.5).intValue == nil)

        #expect(RESPValue.double(1.5).doubleValue == 1.5)
        #expect(RESPValue.bulk("2.5").doubleValue == 2.5)
        #expect(RESPValue.integer(3).doubleValue == 3)

        #expect(RESPValue.simpleString("OK").stringValue == "OK")
        #expect(RESPValue.bulk("text").stringValue == "text")
        #expect(RESPValue.verbatim(format: "txt", text: "v").stringValue == "v")
        #expect(RESPValue.integer(1).stringValue == nil)

        #expect(RESPValue.set([1, 2]).arrayValue == [1, 2])
        #expect(RESPValue.push(["a"]).arrayValue == ["a"])
        #expect(RESPValue.nullArray.arrayValue == nil)
        #expect(RESPValue.null.isNull && RESPValue.nullArray.isNull && !RESPValue.integer(0).isNull)
    }
}
