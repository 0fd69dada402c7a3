import DocketWire
import NIOCore
import Testing
@testable import DocketBenchKit

@Suite struct WorkerLoopTests {
    /// Microseconds to the loop's nanosecond clock.
    static func at(_ micros: UInt64) -> UInt64 { micros * 1000 }

    /// A loop measuring from 1,000 µs to 10,000 µs.
    static func loop<W: Workload>(_ workload: W, pipeline: Int = 1) -> WorkerLoop<W> {
        WorkerLoop(workload: workload, pipeline: pipeline, seed: 1, measureStart: at(1_000), end: at(10_000))
    }

    static let oneItem = ItemIDs(prefix: "PP", runs: [.init(1, 1)])

    @Test func requestsAreEncodedAsArraysOfBulkStrings() {
        var get = Self.loop(GetWorkload(items: Self.oneItem), pipeline: 2)
        var buffer = ByteBuffer()
        #expect(get.startBatch(at: Self.at(2_000), into: &buffer))
        #expect(String(buffer: buffer) == "*2\r\n$8\r\nITEM.GET\r\n$4\r\nPP-1\r\n*2\r\n$8\r\nITEM.GET\r\n$4\r\nPP-1\r\n")
        #expect(get.inFlight)

        var ping = Self.loop(PingWorkload())
        buffer.clear()
        #expect(ping.startBatch(at: Self.at(2_000), into: &buffer))
        #expect(String(buffer: buffer) == "*1\r\n$4\r\nPING\r\n")

        let owned = OwnedItems(items: ItemIDs(prefix: "TP", runs: [.init(1, 1)]), worker: 0, workers: 1, knownInAppraisal: [])
        var fire = Self.loop(FireWorkload(owned: owned))
        buffer.clear()
        #expect(fire.startBatch(at: Self.at(2_000), into: &buffer))
        #expect(String(buffer: buffer) == "*3\r\n$9\r\nITEM.FIRE\r\n$4\r\nTP-1\r\n$6\r\nsubmit\r\n")
    }

    @Test func noBatchStartsOnceTheRunIsOver() {
        var loop = Self.loop(PingWorkload())
        var buffer = ByteBuffer()
        #expect(!loop.startBatch(at: Self.at(10_000), into: &buffer))
        #expect(buffer.readableBytes == 0)
        #expect(!loop.inFlight)
    }

    @Test func aBatchIsTimedFromItsSendingToItsLastReply() {
        var loop = Self.loop(PingWorkload(), pipeline: 3)
        var buffer = ByteBuffer()
        #expect(loop.startBatch(at: Self.at(2_000), into: &buffer))
        let complete = [2_100, 2_200, 2_500].map { loop.received(.simpleString("PONG"), at: Self.at($0)) }
        #expect(complete == [false, false, true])
        #expect(!loop.inFlight)
        #expect(loop.result.operations == 3)
        #expect(loop.result.all.totalCount == 3)
        #expect(loop.result.all.max == 500)
        #expect(loop.result.byOperation[.ping]?.totalCount == 3)
        #expect(loop.result.errors.isEmpty)
    }

    @Test func warmUpAndBatchesEndingAfterTheRunAreNotRecorded() {
        var loop = Self.loop(PingWorkload())
        var buffer = ByteBuffer()
        #expect(loop.startBatch(at: Self.at(900), into: &buffer))
        _ = loop.received(.error("UNAVAILABLE busy"), at: Self.at(1_100))
        #expect(loop.startBatch(at: Self.at(9_900), into: &buffer))
        _ = loop.received(.simpleString("PONG"), at: Self.at(10_100))
        #expect(!loop.inFlight)
        #expect(loop.result.operations == 0)
        #expect(loop.result.all.totalCount == 0)
        #expect(loop.result.errors.isEmpty)
    }

    @Test func errorRepliesCountByTheirFirstWord() {
        var loop = Self.loop(PingWorkload(), pipeline: 4)
        var buffer = ByteBuffer()
        #expect(loop.startBatch(at: Self.at(2_000), into: &buffer))
        for reply: RESPValue in [.error("DENIED no"), .simpleString("PONG"), .error("DENIED again"), .error("BUSY")] {
            _ = loop.received(reply, at: Self.at(3_000))
        }
        #expect(loop.result.operations == 1)
        #expect(loop.result.all.totalCount == 1)
        #expect(loop.result.errors == ["DENIED": 2, "BUSY": 1])
    }

    @Test func everyReplyReachesTheWorkload() {
        // One item, so each fire follows the last reply: submit, then revise after an accepted
        // or denied submit, and the same transition again after any other error.
        let owned = OwnedItems(items: ItemIDs(prefix: "TP", runs: [.init(1, 1)]), worker: 0, workers: 1, knownInAppraisal: [])
        var loop = Self.loop(FireWorkload(owned: owned))
        var transitions: [String] = []
        for reply: RESPValue in [.simpleString("OK"), .error("UNAVAILABLE busy"), .error("DENIED not here"), .simpleString("OK")] {
            var buffer = ByteBuffer()
            #expect(loop.startBatch(at: Self.at(2_000), into: &buffer))
            transitions.append(String(String(buffer: buffer).split(separator: "\r\n").last!))
            _ = loop.received(reply, at: Self.at(2_100))
        }
        #expect(transitions == ["submit", "revise", "revise", "submit"])
    }

    @Test func aFailedBatchCountsAsClientErrors() {
        var loop = Self.loop(PingWorkload(), pipeline: 5)
        var buffer = ByteBuffer()
        #expect(loop.startBatch(at: Self.at(2_000), into: &buffer))
        _ = loop.received(.simpleString("PONG"), at: Self.at(2_100))
        loop.failBatch()
        #expect(!loop.inFlight)
        #expect(loop.result.errors == ["client": 5])
        #expect(loop.result.operations == 0)
    }

    @Test func repliesAreReassembledFromReadsThatEndAnywhere() throws {
        let wire = "+OK\r\n$5\r\nhello\r\n-DENIED not allowed\r\n*2\r\n$1\r\na\r\n:7\r\n%1\r\n$2\r\nid\r\n$4\r\nTP-1\r\n"
        let expected: [RESPValue] = [
            .simpleString("OK"), .bulk("hello"), .error("DENIED not allowed"), .array([.bulk("a"), .integer(7)]),
            .map([(.bulk("id"), .bulk("TP-1"))]),
        ]
        let bytes = Array(wire.utf8)
        for piece in [1, 2, 3, 7, bytes.count] {
            var reader = ReplyReader()
            var replies: [RESPValue] = []
            var offset = 0
            while offset < bytes.count {
                reader.append(ByteBuffer(bytes: bytes[offset..<min(offset + piece, bytes.count)]))
                offset += piece
                while let reply = try reader.next() { replies.append(reply) }
            }
            #expect(replies == expected, "in pieces of \(piece)")
        }
    }

    @Test func aPipelinedBatchEndsWithItsLastReplyWhateverTheReads() throws {
        var loop = Self.loop(GetWorkload(items: Self.oneItem), pipeline: 3)
        var request = ByteBuffer()
        #expect(loop.startBatch(at: Self.at(2_000), into: &request))
        var reader = ReplyReader()
        var complete: [Bool] = []
        for (i, read) in ["$4\r\nPP", "-1\r\n-NOTFOUND item", " PP-1\r\n$4\r", "\nPP-1\r\n"].enumerated() {
            reader.append(ByteBuffer(string: read))
            while let reply = try reader.next() {
                complete.append(loop.received(reply, at: Self.at(2_000 + 100 * UInt64(i))))
            }
        }
        #expect(complete == [false, false, true])
        #expect(loop.result.operations == 2)
        #expect(loop.result.all.max == 300)
        #expect(loop.result.errors == ["NOTFOUND": 1])
    }

    @Test func malformedRepliesAreRefused() {
        var reader = ReplyReader()
        reader.append(ByteBuffer(string: "?what\r\n"))
        #expect(throws: RESPProtocolError.self) { try reader.next() }
    }

    /// Every reply shape `skip()` must step over, in RESP2 and RESP3, with its error class.
    static let skipWire: [(String, String?)] = [
        ("+OK\r\n", nil),
        ("+a line\rwith a lone CR\r\n", nil),
        ("$5\r\nhello\r\n", nil),
        ("-DENIED not allowed\r\n", "DENIED"),
        ("-NOTFOUND\r\n", "NOTFOUND"),
        ("*2\r\n$1\r\na\r\n:7\r\n", nil),
        ("%2\r\n$2\r\nid\r\n$4\r\nTP-1\r\n$6\r\nfields\r\n%1\r\n$1\r\nk\r\n$2\r\n\r\n\r\n", nil),
        ("*3\r\n*0\r\n%0\r\n*1\r\n*1\r\n:-12\r\n", nil),
        ("$-1\r\n", nil),
        ("*-1\r\n", nil),
        ("_\r\n", nil),
        ("#t\r\n", nil),
        (",1.5\r\n", nil),
        ("(12345678901234567890\r\n", nil),
        ("=7\r\ntxt:abc\r\n", nil),
        ("!21\r\nSYNTAX invalid syntax\r\n", "SYNTAX"),
        ("~2\r\n+a\r\n+b\r\n", nil),
        ("|1\r\n+ttl\r\n:3\r\n+annotated\r\n", nil),
        ("*2\r\n-ERR inside\r\n:1\r\n", nil),
    ]

    @Test func skippedRepliesEndWhereTheParserEndsThemWhateverTheReads() throws {
        let wire = Self.skipWire.map(\.0).joined()
        let bytes = Array(wire.utf8)
        for piece in [1, 2, 3, 5, 7, bytes.count] {
            var reader = ReplyReader()
            var classes: [String?] = []
            var offset = 0
            while offset < bytes.count {
                reader.append(ByteBuffer(bytes: bytes[offset..<min(offset + piece, bytes.count)]))
                offset += piece
                while let reply = try reader.skip() { classes.append(reply.errorClass) }
            }
            #expect(classes == Self.skipWire.map(\.1), "in pieces of \(piece)")
        }
        // Each reply alone: the scan's length is the whole reply, and the parser reads one
        // reply from the same bytes with the same error class.
        for (reply, errorClass) in Self.skipWire {
            let scanned = Array(reply.utf8).withUnsafeBytes { ReplyReader.scan($0) }
            #expect(scanned == .complete(length: reply.utf8.count, errorClass: errorClass), "\(reply.debugDescription)")
            var parser = RESPValueParser()
            var buffer = ByteBuffer(string: reply)
            let value = try #require(try parser.next(&buffer), "\(reply.debugDescription)")
            #expect(buffer.readableBytes == 0 && Runner.errorClass(of: value) == errorClass, "\(reply.debugDescription)")
        }
    }

    @Test func anAuthReplyParsedWholeThenRepliesSkipped() throws {
        var reader = ReplyReader()
        reader.append(ByteBuffer(string: "+OK\r\n$4\r\nPP-1\r\n-NOTFOUND item PP-2\r\n"))
        #expect(try reader.next() == .simpleString("OK"))
        #expect(try reader.skip() == ReplyReader.Skipped(errorClass: nil))
        #expect(try reader.skip() == ReplyReader.Skipped(errorClass: "NOTFOUND"))
        #expect(try reader.skip() == nil)
    }

    @Test(arguments: ["?what\r\n", "$3\r\nabcd\r\n", ":12a\r\n", "*x\r\n", "*1\r\n$1\r\nab\r\n"])
    func malformedRepliesAreRefusedWhenSkipped(wire: String) {
        var reader = ReplyReader()
        reader.append(ByteBuffer(string: wire))
        #expect(throws: RESPProtocolError.self) { try reader.skip() }
    }
}

