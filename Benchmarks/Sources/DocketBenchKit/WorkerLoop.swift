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
        let errorClass = Runner.errorClass(of: reply)
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
/// two replies of a batch. Keeps the bytes `RESPValueParser` has not consumed yet and appends
/// the next read to them.
struct ReplyReader {
    private var parser = RESPValueParser()
    private var buffered = ByteBuffer()

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
}
