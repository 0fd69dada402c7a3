@testable import DocketStore
import Foundation
import NIOCore
import PostgresNIO
import Testing

/// ITEM.GET's loop read takes its row in PostgreSQL's binary format and reads it by hand
/// (`BinaryCells`): each value written by PostgresNIO's own encoders must read back the same,
/// and a value of the wrong shape must fail rather than read as something else.
@Suite("Item rows read from their binary values")
struct BinaryCellsTests {
    static func encoded(_ value: some PostgresEncodable) throws -> ByteBuffer {
        var buffer = ByteBuffer()
        try value.encode(into: &buffer, context: .default)
        return buffer
    }

    static func bytes(_ build: (inout ByteBuffer) -> Void) -> ByteBuffer {
        var buffer = ByteBuffer()
        build(&buffer)
        return buffer
    }

    /// What reading refused, nil when it read.
    static func problem(_ read: () throws -> Any) -> String? {
        do {
            _ = try read()
            return nil
        } catch let error as BinaryCells.Unreadable {
            return error.problem
        } catch {
            return "another error: \(error)"
        }
    }

    @Test func integersAndTheirWrongLengths() throws {
        #expect(try BinaryCells.int4(Self.encoded(Int32(-7))) == -7)
        #expect(try BinaryCells.int4(Self.encoded(Int32.max)) == Int(Int32.max))
        #expect(Self.problem { try BinaryCells.int4(try Self.encoded(Int64(7))) } == "is not a 4-byte integer (8 bytes)")
        #expect(Self.problem { try BinaryCells.int4(ByteBuffer()) } == "is not a 4-byte integer (0 bytes)")
    }

    @Test func timestampsToTheMicrosecond() throws {
        for micros: Int64 in [0, 1_795_000_000_123_456, -86_400_000_001, 946_684_800_000_000] {
            let date = Date(epochMicroseconds: micros)
            #expect(try BinaryCells.timestamp(Self.encoded(date)).epochMicroseconds == micros)
        }
        #expect(Self.problem { try BinaryCells.timestamp(Self.bytes { $0.writeInteger(Int64.max) }) } == "is an infinite timestamp")
        #expect(Self.problem { try BinaryCells.timestamp(Self.bytes { $0.writeInteger(Int64.min) }) } == "is an infinite timestamp")
        #expect(Self.problem { try BinaryCells.timestamp(Self.bytes { $0.writeInteger(Int32(1)) }) } == "is not a timestamp (4 bytes)")
    }

    @Test func jsonbIsItsVersionByteThenItsText() throws {
        let text = #"{"summary": "Алматы \"green\"", "n": [1, 2]}"#
        #expect(try BinaryCells.jsonb(Self.bytes { $0.writeInteger(UInt8(1)); $0.writeString(text) }) == text)
        #expect(try BinaryCells.jsonb(Self.bytes { $0.writeInteger(UInt8(1)); $0.writeString("{}") }) == "{}")
        #expect(Self.problem { try BinaryCells.jsonb(Self.bytes { $0.writeInteger(UInt8(2)); $0.writeString("{}") }) } == "is not jsonb of version 1")
        #expect(Self.problem { try BinaryCells.jsonb(ByteBuffer()) } == "is not jsonb of version 1")
    }

    @Test("fields are read from the jsonb bytes, where the cell starts in the row, escapes and all")
    func fieldsFromTheirJsonbBytes() throws {
        func jsonb(_ text: String) -> ByteBuffer {
            // The cell as a row hands it over: a slice that starts past other columns' bytes.
            var row = Self.bytes { $0.writeString("id,title,"); $0.writeInteger(UInt8(1)); $0.writeString(text) }
            row.moveReaderIndex(forwardBy: 9)
            return row
        }
        #expect(try BinaryCells.fields(jsonb(#"{"budget": "25000", "summary": "Алматы, green procurement"}"#))
            == ["budget": "25000", "summary": "Алматы, green procurement"])
        #expect(try BinaryCells.fields(jsonb(#"{"a": "line\nbreak \"quoted\" \u00e9", "b": ""}"#)) == ["a": "line\nbreak \"quoted\" é", "b": ""])
        #expect(try BinaryCells.fields(jsonb("{}")) == [:])
        // Every string JSON must escape, and what it must not touch, reads back as written.
        let samples = Dictionary(uniqueKeysWithValues: JSONTests.samples.enumerated().map { ("k\($0.offset)", $0.element) })
        #expect(try BinaryCells.fields(jsonb(JSON.encode(samples))) == samples)
        for (key, value) in samples { #expect(try BinaryCells.fields(jsonb(JSON.encode([value: key]))) == [value: key]) }
        // Not a flat object of strings: JSON.decodeFields has the last word, as for the text form.
        #expect(try BinaryCells.fields(jsonb(#"{"n": "1", "m": 2}"#)) == JSON.decodeFields(#"{"n": "1", "m": 2}"#))
        #expect(Self.problem { try BinaryCells.fields(Self.bytes { $0.writeInteger(UInt8(2)); $0.writeString("{}") }) } == "is not jsonb of version 1")
        #expect(Self.problem { try BinaryCells.fields(ByteBuffer()) } == "is not jsonb of version 1")
    }

    @Test func textArraysAsPostgresNIOWritesThem() throws {
        for value in [[], ["bruno"], ["bruno", "chen, \"the second\"", "Ω", ""]] as [[String]] {
            #expect(try BinaryCells.textArray(Self.encoded(value)) == value)
        }
    }

    @Test func arraysOfAnotherShapeAreRefused() throws {
        #expect(Self.problem { try BinaryCells.textArray(try Self.encoded([Int32(1), 2])) } == "is not an array of text (element type 23)")
        #expect(Self.problem { try BinaryCells.textArray(Self.bytes { $0.writeInteger(Int32(1)) }) } == "is not an array")
        // One text element, then NULL (length -1).
        func array(_ elements: [Int32?], dimensions: Int32 = 1, trailing: Bool = false) -> ByteBuffer {
            Self.bytes { b in
                b.writeInteger(dimensions)
                b.writeInteger(Int32(elements.contains(nil) ? 1 : 0))
                b.writeInteger(PostgresDataType.text.rawValue)
                for _ in 0..<dimensions { b.writeInteger(Int32(elements.count)); b.writeInteger(Int32(1)) }
                for element in elements {
                    if let length = element { b.writeInteger(length); b.writeString(String(repeating: "x", count: Int(length))) } else { b.writeInteger(Int32(-1)) }
                }
                if trailing { b.writeInteger(UInt8(0)) }
            }
        }
        #expect(try BinaryCells.textArray(array([2, 0])) == ["xx", ""])
        #expect(Self.problem { try BinaryCells.textArray(array([2, nil])) } == "has a NULL or cut element")
        #expect(Self.problem { try BinaryCells.textArray(array([2], dimensions: 2)) } == "is not a one-dimensional array")
        #expect(Self.problem { try BinaryCells.textArray(array([2], trailing: true)) } == "has bytes after its last element")
        var cut = array([5])
        cut.moveWriterIndex(to: cut.writerIndex - 2)
        #expect(Self.problem { try BinaryCells.textArray(cut) } == "has a NULL or cut element")
    }
}
