import DocketCore
import Foundation
import Testing
@testable import DocketStore

/// The hand-written JSON of fields and event data must say exactly what Foundation's would.
@Suite("Flat JSON objects written and read by hand")
struct JSONTests {
    /// Strings with what JSON must escape and what it must not touch.
    static let samples = [
        "", "plain", "Алматы", "თბილისი", "quote \" and backslash \\", "slash / stays", "tab\tnewline\ncr\r",
        "bell \u{07} and unit separator \u{1F}", "nul \u{0}", "emoji 🌍 and ＦＵＬＬ", "é composed, e\u{301} decomposed", "{\"a\": [1]}",
    ]

    static func randomString(_ g: inout some RandomNumberGenerator) -> String {
        var s = ""
        for _ in 0..<Int.random(in: 0...12, using: &g) {
            let pick = Int.random(in: 0...9, using: &g)
            let scalar: Unicode.Scalar = switch pick {
            case 0: Unicode.Scalar(UInt8.random(in: 0...0x1F, using: &g))
            case 1: ["\"", "\\", "/", "{", "}", ":", ","].randomElement(using: &g)!
            case 2: Unicode.Scalar(UInt32.random(in: 0x1F300...0x1F64F, using: &g))!
            case 3: Unicode.Scalar(UInt32.random(in: 0x400...0x4FF, using: &g))!
            default: Unicode.Scalar(UInt8.random(in: 0x20...0x7E, using: &g))
            }
            s.unicodeScalars.append(scalar)
        }
        return s
    }

    @Test("encode: what JSONSerialization reads back is the object written, keys sorted")
    func encodeRoundTrips() throws {
        var g = SystemRandomNumberGenerator()
        var objects: [[String: String]] = [[:], Dictionary(uniqueKeysWithValues: Self.samples.enumerated().map { ("k\($0.offset)", $0.element) })]
        for _ in 0..<300 {
            var o: [String: String] = [:]
            for _ in 0..<Int.random(in: 1...6, using: &g) { o[Self.randomString(&g)] = Self.randomString(&g) }
            objects.append(o)
        }
        for object in objects {
            let text = JSON.encode(object)
            let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) as? [String: String]
            #expect(parsed == object, "\(text)")
            #expect(JSON.decodeObject(text) == object, "\(text)")
        }
        #expect(JSON.encode(["b": "2", "a": "1"]) == #"{"a":"1","b":"2"}"#)
    }

    @Test("decodeObject reads PostgreSQL's jsonb text form, escapes and surrogate pairs included")
    func decodesPostgresForm() {
        #expect(JSON.decodeObject(#"{"budget": "25000", "summary": "A project for the scale run"}"#) == ["budget": "25000", "summary": "A project for the scale run"])
        #expect(JSON.decodeObject(#"{"a": "line\nbreak \"quoted\" back\\slash \/ \u00e9 \ud83c\udf0d \u0007"}"#) == ["a": "line\nbreak \"quoted\" back\\slash / é 🌍 \u{07}"])
        #expect(JSON.decodeObject("{}") == [:])
        #expect(JSON.decodeObject(" { \"k\" : \"v\" } ") == ["k": "v"])
    }

    @Test("decodeObject gives nil, never a wrong answer, for what it does not read")
    func refusesOthers() {
        for text in [#"{"n": 1}"#, #"{"a": null}"#, #"{"a": ["x"]}"#, #"{"a": "b""#, #"{"a" "b"}"#, #"{"a": "b",}"#, #"["a"]"#, "",
                     #"{"a": "\ud83c"}"#, #"{"a": "\x"}"#, "{\"a\": \"raw\u{1}control\"}", #"{"a": "b"} x"#, #"{"a": "\u12"}"#] {
            #expect(JSON.decodeObject(text) == nil, "\(text)")
        }
    }

    @Test("hex of hashes matches the formatted form, and the digest is the known SHA-256")
    func hexMatches() {
        var g = SystemRandomNumberGenerator()
        for n in [0, 1, 2, 32, 100] {
            let bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &g) }
            #expect(SHA256Hex.hex(bytes) == bytes.map { String(format: "%02x", $0) }.joined())
        }
        #expect(SHA256Hex.hex([0x00, 0x0F, 0xA0, 0xFF]) == "000fa0ff")
        #expect(SHA256Hex.digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
