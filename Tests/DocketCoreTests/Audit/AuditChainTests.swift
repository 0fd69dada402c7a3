import DocketCore
import Foundation
import Testing

@Suite("Audit chain")
struct AuditChainTests {
    func chain(_ count: Int) -> [(event: ChainedEvent, prevHash: [UInt8], hash: [UInt8])] {
        var previous = AuditChain.genesis
        return (1...count).map { v in
            let e = ChainedEvent(item: "PP-7", version: v, type: v == 1 ? "created" : "comment", transition: nil,
                                 from: "drafting", to: "drafting", actor: "ana", atMicros: 1_795_000_000_000_000 + Int64(v),
                                 comment: v == 1 ? nil : "note \(v)", data: ["k": "v\(v)"])
            let h = e.hash(previous: previous)
            defer { previous = h }
            return (e, previous, h)
        }
    }

    @Test func intactChainVerifies() {
        #expect(AuditChain.verify(chain(5)) == nil)
    }

    @Test func editedContentIsDetected() {
        var c = chain(5)
        c[2].event.comment = "rewritten behind the service's back"
        #expect(AuditChain.verify(c) == AuditChain.Break(item: "PP-7", version: 3, reason: "hash does not match the event's content"))
    }

    @Test func deletedEventIsDetected() {
        var c = chain(5)
        c.remove(at: 1)
        #expect(AuditChain.verify(c)?.version == 3)
    }

    @Test func fieldsCannotBeShiftedBetweenEachOther() {
        let a = ChainedEvent(item: "A", version: 1, type: "comment", transition: nil, from: "x", to: "y", actor: "z",
                             atMicros: 0, comment: "ab", data: [:])
        var b = a
        b.comment = "a"
        b.actor = "zb"
        #expect(a.canonicalBytes != b.canonicalBytes)
        var c = a
        c.comment = nil
        var d = a
        d.comment = "~"
        #expect(c.hash(previous: AuditChain.genesis) != d.hash(previous: AuditChain.genesis))
    }

    @Test("timestamps and durations")
    func timestamps() {
        let t = Date(timeIntervalSince1970: 1_795_858_200)
        #expect(Timestamp.format(t) == "2026-11-28T09:30:00Z")
        #expect(Timestamp.parse("2026-11-28T09:30:00Z") == t)
        #expect(Timestamp.parse("2026-11-28") == Date(timeIntervalSince1970: 1_795_824_000))
        #expect(Timestamp.parse("yesterday") == nil)
        #expect(WorkflowDuration("1d12h")?.seconds == 129_600)
        #expect(WorkflowDuration("2w")?.description == "14d")
        #expect(WorkflowDuration("14") == nil && WorkflowDuration("0d") == nil && WorkflowDuration("d") == nil)
        #expect(Date(epochMicroseconds: t.epochMicroseconds) == t)
    }
}
