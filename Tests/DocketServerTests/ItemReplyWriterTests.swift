@testable import DocketServer
import DocketCore
import DocketWire
import Foundation
import NIOCore
import Testing

/// ITEM.GET writes its reply straight from the snapshot (`Reply.writeItem`); every other
/// command that shows an item builds `Reply.item` and encodes it. Both must put the same bytes
/// on the wire, in RESP2 and in RESP3.
@Suite("An item written straight from its snapshot")
struct ItemReplyWriterTests {
    static let definition: WorkflowDefinition = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Workflows/policy-paper.yaml").standardized
        let yaml = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
        return WorkflowParser.parse(yaml, file: url.path).0!
    }()

    static let created = Date(timeIntervalSince1970: 1_780_000_000)

    /// Items that take each branch: nulls and values, no fields and several, a state with
    /// transitions, a final one and one the workflow does not have, a title with a line break
    /// and non-ASCII text.
    static let items: [ItemSnapshot] = [
        ItemSnapshot(id: "PP-1", workflow: "policy-paper", workflowVersion: 1, title: "Gender equity in local budgets",
                     state: "drafting", version: 1, author: "amara", createdAt: created, stateSince: created),
        ItemSnapshot(id: "PP-20", workflow: "policy-paper", workflowVersion: 3, title: "Résumé:\r\nvilles durables — 2026",
                     theme: "sustainability", group: "climate", state: "adopted", version: 12_345, author: "ivan",
                     createdAt: created, stateSince: created.addingTimeInterval(3_600), dueAt: created.addingTimeInterval(86_400 * 14),
                     fields: ["summary": "Short", "abstract": "", "zeta": "ünïcode ✓"]),
        ItemSnapshot(id: "PP-300", workflow: "policy-paper", workflowVersion: 1, title: "", state: "no-such-state",
                     version: 7, author: "chen", createdAt: created, stateSince: created),
    ]

    static func bytes(_ write: (inout ByteBuffer) -> Void) -> [UInt8] {
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        write(&buffer)
        return Array(buffer.readableBytesView)
    }

    @Test("the same bytes as the encoded map", arguments: [RESPVersion.resp2, .resp3])
    func sameBytes(version: RESPVersion) {
        // The definition matters to these items: one state has transitions, one is final.
        #expect(Self.definition.state("drafting")?.transitions.isEmpty == false)
        #expect(Self.definition.state("adopted")?.final == true)
        for item in Self.items {
            for definition in [Self.definition, nil] {
                let built = Self.bytes { RESPEncoder.encode(Reply.item(item, definition), as: version, into: &$0) }
                let written = Self.bytes { Reply.writeItem(item, definition, as: version, into: &$0) }
                #expect(written == built, "\(item.id), definition \(definition == nil ? "absent" : "present"), \(version)")
            }
        }
    }

    @Test("a state with transitions lists them, and the reply reads back as a map")
    func readsBack() throws {
        let state = try #require(Self.definition.states.first { !$0.transitions.isEmpty })
        var item = Self.items[1]
        item.state = state.name
        var buffer = ByteBufferAllocator().buffer(capacity: 64)
        Reply.writeItem(item, Self.definition, as: .resp3, into: &buffer)
        var parser = RESPValueParser()
        let value = try #require(try parser.next(&buffer))
        guard case let .map(pairs) = value else {
            Issue.record("not a map: \(value)")
            return
        }
        #expect(buffer.readableBytes == 0)
        #expect(pairs.count == 15)
        let transitions = pairs.first { $0.0 == .bulk("transitions") }?.1
        #expect(transitions == .array(state.transitions.map { .bulk($0.name) }))
        #expect(pairs.first { $0.0 == .bulk("version") }?.1 == .integer(12_345))
        #expect(pairs.first { $0.0 == .bulk("final") }?.1 == .boolean(false))

        item.state = "adopted"
        Reply.writeItem(item, Self.definition, as: .resp2, into: &buffer)
        let adopted = try #require(try parser.next(&buffer))
        guard case let .array(flat) = adopted, let at = flat.firstIndex(of: .bulk("final")) else {
            Issue.record("not a flat RESP2 map with a final key: \(adopted)")
            return
        }
        #expect(flat[at + 1] == .integer(1))
    }
}
