import DocketWire
import NIOCore
import Testing

@Suite("InlineCommandSplitter")
struct InlineCommandSplitterTests {
    static func split(_ line: String) throws(RESPProtocolError) -> [String] {
        try InlineCommandSplitter.split(Array(line.utf8)).map { String(buffer: $0) }
    }

    @Test(arguments: [
        // Plain words and whitespace.
        ("set foo bar", ["set", "foo", "bar"]),
        ("  a   b  ", ["a", "b"]),
        ("", []),
        ("    ", []),
        ("\t \r ", []),
        ("a\tb", ["a", "b"]),
        ("a\rb", ["a", "b"]),
        ("a\nb", ["a", "b"]),
        // \v and \f are skipped between words but, as in sdssplitargs, do not end one.
        ("\u{0B}\u{0C}a", ["a"]),
        ("a\u{0B}b", ["a\u{0B}b"]),
        // Double quotes and their escapes.
        ("\"hello world\"", ["hello world"]),
        ("\"\"", [""]),
        ("''", [""]),
        ("a \"\" b", ["a", "", "b"]),
        ("\"a\\nb\"", ["a\nb"]),
        ("\"a\\rb\"", ["a\rb"]),
        ("\"a\\tb\"", ["a\tb"]),
        ("\"a\\bb\"", ["a\u{08}b"]),
        ("\"a\\ab\"", ["a\u{07}b"]),
        ("\"\\\"quoted\\\"\"", ["\"quoted\""]),
        ("\"back\\\\slash\"", ["back\\slash"]),
        ("\"\\q\"", ["q"]),
        ("\"\\x41\\x7a\\x7A\"", ["Azz"]),
        ("\"\\x4\"", ["x4"]),
        ("\"\\xZZ\"", ["xZZ"]),
        ("\"it's\"", ["it's"]),
        // Single quotes are literal except \'.
        ("'it\\'s'", ["it's"]),
        ("'a\\nb'", ["a\\nb"]),
        ("'a b' c", ["a b", "c"]),
        ("'say \"hi\"'", ["say \"hi\""]),
        // Quotes can start mid-word; a closing quote may be followed by any whitespace.
        ("a\"b c\" d", ["ab c", "d"]),
        ("pre'x y'", ["prex y"]),
        ("\"x\"\ty", ["x", "y"]),
        ("\"x\"\u{0B}y", ["x", "y"]),
        // Quote characters inside the other kind of quotes.
        ("\"a'b\"", ["a'b"]),
        // UTF-8 passes through untouched.
        ("héllo wörld", ["héllo", "wörld"]),
    ])
    func splits(line: String, expected: [String]) throws {
        #expect(try Self.split(line) == expected)
    }

    @Test(arguments: [
        "\"unterminated",
        "'unterminated",
        "\"abc\"def",
        "'abc'def",
        "\"ends with backslash\\",
        "'\\'",
        "set \"\"\"test-key\"\"\" test-value",
        "a \"b\"c",
        "\"",
        "'",
    ])
    func unbalancedQuotes(line: String) {
        #expect(throws: RESPProtocolError.unbalancedQuotes) {
            try Self.split(line)
        }
    }

    @Test func hexEscapesProduceArbitraryBytes() throws {
        let words = try InlineCommandSplitter.split(Array("\"\\x00\\xff\\x0D\\x0a\" x".utf8))
        #expect(words == [ByteBuffer(bytes: [0, 255, 13, 10]), ByteBuffer(string: "x")])
    }

    @Test func nulIsAnOrdinaryByte() throws {
        let words = try InlineCommandSplitter.split([UInt8(ascii: "a"), 0, UInt8(ascii: "b"), 32, 0])
        #expect(words == [ByteBuffer(bytes: [97, 0, 98]), ByteBuffer(bytes: [0])])
    }

    @Test func acceptsAnyCollectionOfBytes() throws {
        let line = "SET \"k k\" 'v'"
        let expected = try InlineCommandSplitter.split(Array(line.utf8))
        #expect(expected == request("SET", "k k", "v"))
        #expect(try InlineCommandSplitter.split(line.utf8) == expected)
        #expect(try InlineCommandSplitter.split(ByteBuffer(string: line).readableBytesView) == expected)
        // A collection without contiguous storage takes the copying path.
        #expect(try InlineCommandSplitter.split(Array(line.utf8).lazy.map { $0 }) == expected)
        #expect(try InlineCommandSplitter.split(Array(line.utf8)[4...]) == request("k k", "v"))
    }
}
