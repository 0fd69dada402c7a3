import DocketWire
import NIOCore
import Testing

/// Seeded (reproducible) random inputs: the parsers must never crash or hang,
/// must return requests/values, `nil` or a `RESPProtocolError`, must stay
/// within their bounds, and must not depend on how the input is split.
@Suite("Fuzz")
struct FuzzTests {
    static let limits = RESPLimits(
        maxInlineLength: 48, maxBulkLength: 24, maxArrayLength: 6, preAuthMaxArguments: 4, preAuthMaxBytes: 96)

    static let alphabet: [UInt8] = Array("*$\r\n\r\n0123456789-+:\"'\\ x aAzZ/HTTP GET".utf8) + [0, 9, 11, 255]

    static let requestSeeds: [[UInt8]] = [
        "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n",
        "*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
        "SET k \"a\\x41\\n b\" 'c\\'d'\r\nPING\n",
        "\r\n*0\r\n*-1\r\nECHO hi\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        "*2\r\n$0\r\n\r\n$2\r\n\r\n\r\n",
    ].map { Array($0.utf8) }

    static func randomBytes(_ rng: inout SeededGenerator, alphabet: [UInt8]) -> [UInt8] {
        let length = Int.random(in: 0...80, using: &rng)
        return (0..<length).map { _ in
            Int.random(in: 0..<5, using: &rng) == 0 ? UInt8.random(in: 0...255, using: &rng) : alphabet.randomElement(using: &rng)!
        }
    }

    static func mutate(_ input: [UInt8], _ rng: inout SeededGenerator, alphabet: [UInt8], seeds: [[UInt8]]) -> [UInt8] {
        var out = input
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let i = out.isEmpty ? 0 : Int.random(in: 0..<out.count, using: &rng)
            switch Int.random(in: 0..<6, using: &rng) {
            case 0 where !out.isEmpty: out[i] = alphabet.randomElement(using: &rng)!
            case 1: out.insert(alphabet.randomElement(using: &rng)!, at: i)
            case 2 where !out.isEmpty: out.remove(at: i)
            case 3 where !out.isEmpty:
                let j = Int.random(in: i..<out.count, using: &rng)
                out.insert(contentsOf: out[i...j], at: j + 1)
            case 4: out = Array(out[..<i])
            default: out += seeds.randomElement(using: &rng)!
            }
        }
        return out
    }

    /// Parses `input` whole, checking the per-call contract, then at one
    /// random split, and (every `fullEvery`th case) at every split.
    static func checkRequests(_ input: [UInt8], authenticated: Bool, limits: RESPLimits, rng: inout SeededGenerator, full: Bool) {
        var parser = RESPRequestParser(limits: limits, authenticated: authenticated)
        var buf = ByteBuffer(bytes: input)
        var outcome = RequestOutcome()
        var calls = 0
        while true {
            calls += 1
            guard calls <= input.count + 2 else {
                Issue.record("parser does not terminate on \(input)")
                return
            }
            let before = buf.readerIndex
            do {
                guard let request = try parser.next(&buf) else {
                    let bound = max(limits.maxInlineLength + 1, limits.maxBulkLength + 2, 24)
                    #expect(buf.readableBytes <= bound, "buffered too much for \(input)")
                    outcome.leftover = buf.readableBytes
                    break
                }
                #expect(!request.isEmpty, "empty request from \(input)")
                #expect(buf.readerIndex > before, "request without consuming from \(input)")
                #expect(request.count <= limits.maxArrayLength)
                if !authenticated { #expect(request.count <= limits.preAuthMaxArguments) }
                #expect(request.allSatisfy { $0.readableBytes <= max(limits.maxBulkLength, limits.maxInlineLength) })
                outcome.requests.append(request)
            } catch {
                #expect(!error.message.isEmpty)
                #expect(!error.reply.contains("\r") && !error.reply.contains("\n"), "\(error.reply)")
                outcome.error = error
                break
            }
        }
        guard input.count > 1 else { return }
        let offset = Int.random(in: 1..<input.count, using: &rng)
        let split = parseRequests(
            [Array(input[..<offset]), Array(input[offset...])], limits: limits, authenticated: authenticated)
        #expect(split == outcome, "split at \(offset) of \(input)")
        if full {
            expectSplitInvariant(input, limits: limits, authenticated: authenticated)
        }
    }

    @Test func requestParserOnRandomBytes() {
        var rng = SeededGenerator(seed: 0xD0C_7E7)
        for n in 0..<10_000 {
            let input = Self.randomBytes(&rng, alphabet: Self.alphabet)
            Self.checkRequests(input, authenticated: n % 2 == 0, limits: Self.limits, rng: &rng, full: n % 50 == 0)
            if n % 10 == 0 {
                Self.checkRequests(input, authenticated: true, limits: .default, rng: &rng, full: false)
            }
        }
    }

    @Test func requestParserOnMutatedRequests() {
        var rng = SeededGenerator(seed: 0x5EED)
        var producedRequests = 0
        for n in 0..<10_000 {
            let seed = Self.requestSeeds[n % Self.requestSeeds.count]
            let input = Self.mutate(seed, &rng, alphabet: Self.alphabet, seeds: Self.requestSeeds)
            Self.checkRequests(input, authenticated: n % 3 != 0, limits: Self.limits, rng: &rng, full: n % 50 == 0)
            producedRequests += parseRequests([input], limits: Self.limits).requests.count
        }
        // Mutations keep enough structure that many inputs still parse.
        #expect(producedRequests > 5_000)
    }

    // MARK: Value parser

    static let valueAlphabet: [UInt8] = Array("+-:$*_,#!=(%~>|?\r\n\r\n0123456789-.eEinfat:xt".utf8) + [0, 255]

    static func randomValue(_ rng: inout SeededGenerator, depth: Int = 0) -> RESPValue {
        let leafOnly = depth >= 3
        switch Int.random(in: 0..<(leafOnly ? 10 : 14), using: &rng) {
        case 0: return .simpleString(String(repeating: "s", count: Int.random(in: 0...5, using: &rng)))
        case 1: return .error("ERR \(Int.random(in: 0...99, using: &rng))")
        case 2: return .integer(Int64.random(in: .min ... .max, using: &rng))
        case 3: return .bulkString(ByteBuffer(bytes: (0..<Int.random(in: 0...6, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }))
        case 4: return .null
        case 5: return .double(Double(Int.random(in: -1000...1000, using: &rng)) / 8)
        case 6: return .boolean(Bool.random(using: &rng))
        case 7: return .bigNumber(String(UInt64.random(in: 0 ... .max, using: &rng)) + "0000")
        case 8: return .verbatim(format: "txt", text: "v\r\n\(Int.random(in: 0...9, using: &rng))")
        case 9: return .bulk("")
        case 10: return .array((0..<Int.random(in: 0...3, using: &rng)).map { _ in randomValue(&rng, depth: depth + 1) })
        case 11: return .set((0..<Int.random(in: 0...3, using: &rng)).map { _ in randomValue(&rng, depth: depth + 1) })
        case 12: return .push((0..<Int.random(in: 0...3, using: &rng)).map { _ in randomValue(&rng, depth: depth + 1) })
        default:
            return .map((0..<Int.random(in: 0...3, using: &rng)).map { _ in
                (randomValue(&rng, depth: depth + 1), randomValue(&rng, depth: depth + 1))
            })
        }
    }

    @Test func randomValuesRoundTrip() throws {
        var rng = SeededGenerator(seed: 42)
        for _ in 0..<2_000 {
            let value = Self.randomValue(&rng)
            // RESP3 gives the value back.
            var resp3 = ByteBuffer()
            RESPEncoder.encode(value, as: .resp3, into: &resp3)
            var parser = RESPValueParser()
            #expect(try parser.next(&resp3) == value)
            #expect(resp3.readableBytes == 0)
            // RESP2 gives a value that re-encodes to the very same bytes.
            var resp2 = ByteBuffer()
            RESPEncoder.encode(value, as: .resp2, into: &resp2)
            let resp2Bytes = resp2
            var parser2 = RESPValueParser()
            let back = try #require(try parser2.next(&resp2))
            #expect(resp2.readableBytes == 0)
            var again = ByteBuffer()
            RESPEncoder.encode(back, as: .resp2, into: &again)
            #expect(again == resp2Bytes, "\(value)")
        }
    }

    @Test func valueParserOnRandomAndMutatedBytes() {
        var rng = SeededGenerator(seed: 0xFEED)
        let parser = RESPValueParser(maxBulkLength: 32, maxAggregateLength: 8, maxDepth: 4)
        let seeds: [[UInt8]] = (0..<20).map { _ in
            var out = ByteBuffer()
            RESPEncoder.encode(Self.randomValue(&rng), as: .resp3, into: &out)
            return Array(out.readableBytesView)
        }
        for n in 0..<10_000 {
            let input = n % 2 == 0
                ? Self.randomBytes(&rng, alphabet: Self.valueAlphabet)
                : Self.mutate(seeds[n % seeds.count], &rng, alphabet: Self.valueAlphabet, seeds: seeds)
            let whole = parseValues([input], parser: parser)
            if whole.error == nil {
                #expect(whole.leftover <= 32 + 3, "buffered too much for \(input)")
            }
            if let error = whole.error {
                #expect(!error.reply.contains("\r") && !error.reply.contains("\n"))
            }
            guard input.count > 1 else { continue }
            let offset = Int.random(in: 1..<input.count, using: &rng)
            let split = parseValues([Array(input[..<offset]), Array(input[offset...])], parser: parser)
            #expect(split == whole, "split at \(offset) of \(input)")
            if n % 100 == 0 { expectValueSplitInvariant(input, parser: parser) }
        }
    }

    // MARK: Streams

    /// One connection's worth of hostile bytes, fed in random chunks to one parser (as the
    /// server's decoder sees them): it never holds more than one element's worth of
    /// unconsumed bytes, every call consumes or waits, and it ends in requests, a wait for
    /// more bytes, or one protocol error.
    @Test func requestParserOnLongStreams() {
        var rng = SeededGenerator(seed: 0x57EA_0001)
        var executions = 0, requests = 0, errors = 0, bytesFed = 0, largestHeld = 0
        for n in 0..<300 {
            let authenticated = n % 3 != 0
            var parser = RESPRequestParser(limits: Self.limits, authenticated: authenticated)
            // Mostly well-formed requests, now and then a damaged one, cut at random places.
            let wellFormed = Self.requestSeeds.filter { !String(decoding: $0, as: UTF8.self).contains("HTTP") }
            var stream: [UInt8] = []
            for _ in 0..<200 {
                stream += Int.random(in: 0..<40, using: &rng) == 0
                    ? Self.mutate(wellFormed.randomElement(using: &rng)!, &rng, alphabet: Self.alphabet, seeds: wellFormed)
                    : wellFormed.randomElement(using: &rng)!
            }
            var buffer = ByteBuffer()
            var offset = 0
            streaming: while offset < stream.count {
                let size = min(Int.random(in: 1...64, using: &rng), stream.count - offset)
                let chunk = stream[offset..<(offset + size)]
                offset += size
                buffer.writeBytes(chunk)
                bytesFed += chunk.count
                var calls = 0
                while true {
                    calls += 1
                    executions += 1
                    guard calls <= chunk.count + 2 else {
                        Issue.record("the parser does not terminate on stream \(n)")
                        break streaming
                    }
                    do {
                        guard let request = try parser.next(&buffer) else { break }
                        requests += 1
                        #expect(request.count <= Self.limits.maxArrayLength)
                    } catch {
                        errors += 1
                        break streaming
                    }
                }
                // Bounded: at most one inline line or one bulk (plus its header and CRLF) waits.
                let bound = max(Self.limits.maxInlineLength + 2, Self.limits.maxBulkLength + 2 + 24)
                #expect(buffer.readableBytes <= bound, "stream \(n) holds \(buffer.readableBytes) unconsumed bytes")
                largestHeld = max(largestHeld, buffer.readableBytes)
                if buffer.readableBytes == 0 { buffer.clear() }
            }
        }
        print("RESP fuzz (streams): 300 connections, \(bytesFed) bytes in random chunks, \(executions) parser calls, "
              + "\(requests) requests, \(errors) protocol errors; at most \(largestHeld) bytes held unconsumed")
        #expect(requests > 5_000 && errors > 10)
    }

    /// Headers that announce more than the limits allow are refused on the header, before any
    /// payload is buffered; headers within the limits allocate nothing up front.
    @Test func announcedSizesAllocateNothing() throws {
        var parser = RESPRequestParser(limits: .default, authenticated: true)
        // 1,024 arguments of 16 MiB announced: nothing is reserved for them before they arrive.
        var buffer = ByteBuffer(string: "*1024\r\n$16777216\r\n")
        #expect(try parser.next(&buffer) == nil)
        #expect(buffer.readableBytes == 0, "the headers are consumed, the payload is awaited")
        var over = RESPRequestParser(limits: .default, authenticated: true)
        var huge = ByteBuffer(string: "*1\r\n$9223372036854775807\r\n")
        #expect(throws: RESPProtocolError.self) { try over.next(&huge) }
        var many = RESPRequestParser(limits: .default, authenticated: true)
        var count = ByteBuffer(string: "*99999999999999999999\r\n")
        #expect(throws: RESPProtocolError.self) { try many.next(&count) }
        var inline = RESPRequestParser(limits: .default, authenticated: true)
        var line = ByteBuffer(bytes: [UInt8](repeating: UInt8(ascii: "a"), count: 64 * 1024 + 3))
        #expect(throws: RESPProtocolError.self) { try inline.next(&line) }
    }
}
