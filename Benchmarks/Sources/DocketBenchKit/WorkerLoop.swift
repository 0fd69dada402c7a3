import DocketWire
import NIOCore

/// One worker's request loop without its connection: builds each batch of `pipeline` requests
/// straight into a `ByteBuffer`, takes the replies one at a time, and records them as
/// `Runner.work` does (warm-up excluded, the latency of a batch from its sending to its last
/// reply, error replies counted by their first word, `completed` called for every reply).
///
/// `LoopWorker` drives it from `channelRead`, so the next batch goes out on the event loop that
/// read the last reply, with no hop to a Swift-concurrency thread per request; being free of the
/// channel, it is tested on bytes alone.
struct WorkerLoop<W: Workload> {
    private(set) var result = Runner.WorkerResult()
    private var workload: W
    private var rng: SplitMix64
    private let pipeline: Int
    private let measureStart: UInt64
    private let end: UInt64
    /// The batch in flight, and the error class of each of its replies so far.
    private var batch: [Request] = []
    private var errorClasses: [String?] = []
    private var sentAt: UInt64 = 0

    init(workload: W, pipeline: Int, seed: UInt64, measureStart: UInt64, end: UInt64) {
        self.workload = workload
        rng = SplitMix64(seed: seed)
        self.pipeline = pipeline
        self.measureStart = measureStart
        self.end = end
        batch.reserveCapacity(pipeline)
        errorClasses.reserveCapacity(pipeline)
    }

    /// Whether a batch is waiting for replies.
    var inFlight: Bool { !batch.isEmpty }

    /// Starts the next batch at `now`, appending its requests to `buffer`. Returns false, and
    /// writes nothing, once the run is over.
    mutating func startBatch(at now: UInt64, into buffer: inout ByteBuffer) -> Bool {
        guard now < end else { return false }
        sentAt = now
        for _ in 0..<pipeline {
            let request = workload.next(&rng)
            RESPEncoder.encodeCommand(request.args, into: &buffer)
            batch.append(request)
        }
        return true
    }

    /// Takes the reply to the next unanswered request of the batch in flight. Returns true when
    /// it was the last: the batch, answered at `now`, is recorded and the next one can start.
    mutating func received(_ reply: RESPValue, at now: @autoclosure () -> UInt64) -> Bool {
        received(errorClass: Runner.errorClass(of: reply), at: now())
    }

    /// Takes a reply known only by its error class (nil: not an error), as `ReplyReader.skip`
    /// reads it.
    mutating func received(errorClass: String?, at now: @autoclosure () -> UInt64) -> Bool {
        workload.completed(batch[errorClasses.count], error: errorClass)
        errorClasses.append(errorClass)
        guard errorClasses.count == batch.count else { return false }
        record(answeredAt: now())
        return true
    }

    /// The connection failed (dropped, or no reply in time): every request of the batch in
    /// flight counts as a `client` error, as a failed `DocketClient` call does.
    mutating func failBatch() {
        result.errors["client", default: 0] += UInt64(batch.count)
        batch.removeAll(keepingCapacity: true)
        errorClasses.removeAll(keepingCapacity: true)
    }

    private mutating func record(answeredAt t1: UInt64) {
        if sentAt >= measureStart && t1 <= end {
            let micros = max(1, (t1 - sentAt) / 1000)
            for (request, errorClass) in zip(batch, errorClasses) {
                result.record(request, errorClass: errorClass, micros: micros)
            }
        }
        batch.removeAll(keepingCapacity: true)
        errorClasses.removeAll(keepingCapacity: true)
    }
}

/// Reassembles replies from reads that may end anywhere: mid-line, mid-bulk string, or between
/// two replies of a batch. Keeps the bytes not consumed yet and appends the next read to them.
///
/// `next()` parses a whole reply. `skip()` reads only where a reply ends and, for an error,
/// its first word: all the run loop needs, without building thirty-odd values for an item's
/// map (parsing them was a fifth of the tool's time per ITEM.GET). Use one or the other from
/// a given point on: a reply `next()` has started is finished by `next()`.
struct ReplyReader {
    private var parser = RESPValueParser()
    private var buffered = ByteBuffer()
    /// `skip()` met bytes it could not read: from then on it hands them to the parser, which
    /// says what is wrong with them.
    private var parsing = false

    /// Adds the bytes of one read.
    mutating func append(_ bytes: ByteBuffer) {
        if buffered.readableBytes == 0 {
            buffered = bytes
        } else {
            buffered.discardReadBytes()
            buffered.writeImmutableBuffer(bytes)
        }
    }

    /// The next complete reply, or nil until more bytes arrive.
    mutating func next() throws(RESPProtocolError) -> RESPValue? {
        try parser.next(&buffered)
    }

    /// A reply read by `skip()`: its error class (`NOTFOUND`; nil when it is no error).
    struct Skipped: Equatable {
        var errorClass: String?
    }

    /// Consumes the next complete reply and gives its error class, or nil until more bytes
    /// arrive. Throws, as `next()` does, on bytes that are no RESP.
    mutating func skip() throws(RESPProtocolError) -> Skipped? {
        if !parsing {
            let scan = buffered.withUnsafeReadableBytes { Self.scan($0) }
            switch scan {
            case .incomplete:
                return nil
            case let .complete(length, errorClass):
                buffered.moveReaderIndex(forwardBy: length)
                return Skipped(errorClass: errorClass)
            case .malformed:
                parsing = true
            }
        }
        return try next().map { Skipped(errorClass: Runner.errorClass(of: $0)) }
    }

    enum Scan: Equatable {
        case incomplete
        case complete(length: Int, errorClass: String?)
        case malformed
    }

    /// Where the reply at the start of `bytes` ends, and the first word of its line when it is
    /// an error (`-` or RESP3's `!`). Aggregates are counted, not built: each header adds the
    /// values it announces to those still to read.
    static func scan(_ bytes: UnsafeRawBufferPointer) -> Scan {
        var i = 0
        var needed = 1
        var errorClass: String?
        var first = true
        func lineEnd(from start: Int) -> Int? {
            var j = start
            while j + 1 < bytes.count {
                if bytes[j] == 0x0D, bytes[j + 1] == 0x0A { return j }
                j += 1
            }
            return nil
        }
        func number(_ range: Range<Int>) -> Int? {
            // At most 18 digits: never overflows. Longer numbers go to the parser.
            guard !range.isEmpty, range.count <= 18 else { return nil }
            let negative = bytes[range.lowerBound] == UInt8(ascii: "-")
            let digits = negative ? range.dropFirst() : range[...]
            guard !digits.isEmpty else { return nil }
            var value = 0
            for k in digits {
                let b = bytes[k]
                guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(b - UInt8(ascii: "0"))
            }
            return negative ? -value : value
        }
        func word(_ range: Range<Int>) -> String {
            let end = range.firstIndex { bytes[$0] == UInt8(ascii: " ") } ?? range.upperBound
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range.lowerBound..<end]), as: UTF8.self)
        }
        while needed > 0 {
            guard i < bytes.count else { return .incomplete }
            let type = bytes[i]
            guard let end = lineEnd(from: i + 1) else { return .incomplete }
            let line = (i + 1)..<end
            i = end + 2
            needed -= 1
            switch type {
            case UInt8(ascii: "+"), UInt8(ascii: "_"), UInt8(ascii: "#"), UInt8(ascii: ","), UInt8(ascii: "("):
                break
            case UInt8(ascii: ":"):
                guard number(line) != nil else { return .malformed }
            case UInt8(ascii: "-"):
                if first { errorClass = word(line) }
            case UInt8(ascii: "$"), UInt8(ascii: "="), UInt8(ascii: "!"):
                guard let length = number(line), length >= -1 else { return .malformed }
                guard length >= 0 else { break }
                guard i + length + 2 <= bytes.count else { return .incomplete }
                guard bytes[i + length] == 0x0D, bytes[i + length + 1] == 0x0A else { return .malformed }
                if first, type == UInt8(ascii: "!") { errorClass = word(i..<(i + length)) }
                i += length + 2
            case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "%"), UInt8(ascii: "|"):
                guard let count = number(line), count >= -1, count <= 1 << 20 else { return .malformed }
                guard count > 0 else { break }
                switch type {
                case UInt8(ascii: "%"): needed += 2 * count
                // An attribute's pairs, then the value it annotates.
                case UInt8(ascii: "|"): needed += 2 * count + 1
                default: needed += count
                }
            default:
                return .malformed
            }
            first = false
        }
        return .complete(length: i, errorClass: errorClass)
    }
}
