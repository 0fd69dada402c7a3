import DocketWire
import NIOCore
import Testing

// MARK: Byte helpers

/// The UTF-8 bytes of `s` (Swift string escapes such as `\r\n`, `\0`, `\u{0B}` apply).
func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

/// A buffer holding the UTF-8 bytes of `s`.
func buffer(_ s: String) -> ByteBuffer { ByteBuffer(string: s) }

/// A buffer holding `b`.
func buffer(_ b: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: b) }

/// A request (argument list) made of the UTF-8 bytes of each word.
func request(_ words: String...) -> [ByteBuffer] { words.map { ByteBuffer(string: $0) } }

/// The argument list rendered as strings, for readable failure messages.
func strings(_ request: [ByteBuffer]) -> [String] { request.map { String(buffer: $0) } }

/// The bytes `value` encodes to.
func encoded(_ value: RESPValue, _ version: RESPVersion) -> String {
    var out = ByteBuffer()
    RESPEncoder.encode(value, as: version, into: &out)
    return String(buffer: out)
}

// MARK: Request parser drivers

/// Everything a parser produced from an input: the requests and, if it
/// stopped on one, the error.
struct RequestOutcome: Equatable, CustomStringConvertible {
    var requests: [[ByteBuffer]] = []
    var error: RESPProtocolError?
    /// Bytes still unconsumed at the end (only meaningful without an error).
    var leftover: Int = 0

    var description: String {
        "requests: \(requests.map(strings)), error: \(error.map { "\($0.kind) \($0.message)" } ?? "none"), leftover: \(leftover)"
    }
}

/// Feeds `chunks` one after the other into a fresh parser (appending each to
/// the unconsumed rest, as a channel handler does), collecting every request
/// until the first error.
func parseRequests(
    _ chunks: [[UInt8]],
    limits: RESPLimits = .default,
    authenticated: Bool = true
) -> RequestOutcome {
    var parser = RESPRequestParser(limits: limits, authenticated: authenticated)
    var buffer = ByteBuffer()
    var outcome = RequestOutcome()
    for chunk in chunks {
        buffer.writeBytes(chunk)
        do {
            // Each request consumes at least one byte, so this terminates; the
            // bound turns a parser bug into a failure rather than a hang.
            var rounds = 0
            while let request = try parser.next(&buffer) {
                outcome.requests.append(request)
                rounds += 1
                if rounds > chunk.count + 1 {
                    Issue.record("parser returned more requests than bytes fed")
                    return outcome
                }
            }
        } catch {
            outcome.error = error
            return outcome
        }
    }
    outcome.leftover = buffer.readableBytes
    return outcome
}

/// Parses `input` whole, then split in two at every offset, then one byte at a
/// time, and expects the same outcome each time. Returns the whole-input outcome.
@discardableResult
func expectSplitInvariant(
    _ input: [UInt8],
    limits: RESPLimits = .default,
    authenticated: Bool = true,
    sourceLocation: SourceLocation = #_sourceLocation
) -> RequestOutcome {
    let whole = parseRequests([input], limits: limits, authenticated: authenticated)
    guard input.count > 1 else { return whole }
    for offset in 1..<input.count {
        let split = parseRequests(
            [Array(input[..<offset]), Array(input[offset...])], limits: limits, authenticated: authenticated)
        if split != whole {
            Issue.record("split at \(offset): \(split) != whole: \(whole)", sourceLocation: sourceLocation)
            return whole
        }
    }
    let drip = parseRequests(input.map { [$0] }, limits: limits, authenticated: authenticated)
    #expect(drip == whole, "byte-by-byte", sourceLocation: sourceLocation)
    return whole
}

// MARK: Value parser drivers

struct ValueOutcome: Equatable, CustomStringConvertible {
    var values: [RESPValue] = []
    var error: RESPProtocolError?
    var leftover: Int = 0

    /// Like `RESPValue ==` but a NaN double equals a NaN double, so parsing
    /// `,nan` twice gives equal outcomes.
    static func == (lhs: ValueOutcome, rhs: ValueOutcome) -> Bool {
        lhs.error == rhs.error && lhs.leftover == rhs.leftover && lhs.values.count == rhs.values.count
            && zip(lhs.values, rhs.values).allSatisfy(identical)
    }

    static func identical(_ a: RESPValue, _ b: RESPValue) -> Bool {
        switch (a, b) {
        case (.double(let x), .double(let y)):
            return x == y || (x.isNaN && y.isNaN)
        case (.array(let x), .array(let y)), (.set(let x), .set(let y)), (.push(let x), .push(let y)):
            return x.count == y.count && zip(x, y).allSatisfy(identical)
        case (.map(let x), .map(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { identical($0.0, $1.0) && identical($0.1, $1.1) }
        default:
            return a == b
        }
    }

    var description: String {
        "values: \(values), error: \(error.map { "\($0.kind) \($0.message)" } ?? "none"), leftover: \(leftover)"
    }
}

func parseValues(_ chunks: [[UInt8]], parser: RESPValueParser = RESPValueParser()) -> ValueOutcome {
    var parser = parser
    var buffer = ByteBuffer()
    var outcome = ValueOutcome()
    for chunk in chunks {
        buffer.writeBytes(chunk)
        do {
            var rounds = 0
            while let value = try parser.next(&buffer) {
                outcome.values.append(value)
                rounds += 1
                if rounds > chunk.count + 1 {
                    Issue.record("parser returned more values than bytes fed")
                    return outcome
                }
            }
        } catch {
            outcome.error = error
            return outcome
        }
    }
    outcome.leftover = buffer.readableBytes
    return outcome
}

/// The single value `input` parses to, failing the test otherwise.
func parseValue(_ input: String, sourceLocation: SourceLocation = #_sourceLocation) -> RESPValue? {
    let outcome = parseValues([bytes(input)])
    #expect(outcome.error == nil, sourceLocation: sourceLocation)
    #expect(outcome.values.count == 1, "\(outcome)", sourceLocation: sourceLocation)
    #expect(outcome.leftover == 0, sourceLocation: sourceLocation)
    return outcome.values.first
}

/// The error `input` makes a value parser throw (nil if none).
func valueError(_ input: String, parser: RESPValueParser = RESPValueParser()) -> RESPProtocolError? {
    parseValues([bytes(input)], parser: parser).error
}

@discardableResult
func expectValueSplitInvariant(
    _ input: [UInt8],
    parser: RESPValueParser = RESPValueParser(),
    sourceLocation: SourceLocation = #_sourceLocation
) -> ValueOutcome {
    let whole = parseValues([input], parser: parser)
    guard input.count > 1 else { return whole }
    for offset in 1..<input.count {
        let split = parseValues([Array(input[..<offset]), Array(input[offset...])], parser: parser)
        if split != whole {
            Issue.record("split at \(offset): \(split) != whole: \(whole)", sourceLocation: sourceLocation)
            return whole
        }
    }
    let drip = parseValues(input.map { [$0] }, parser: parser)
    #expect(drip == whole, "byte-by-byte", sourceLocation: sourceLocation)
    return whole
}

// MARK: Deterministic randomness

/// SplitMix64: a tiny seeded generator so fuzz runs are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
