import DocketCore
import Foundation
import PostgresNIO

extension Store {
    /// An item's events, oldest first, as `actor` may see them.
    public func history(_ id: String, actor: Actor) async throws -> [EventRecord] {
        _ = try await item(id, actor: actor)
        return try await read { connection in
            let rows = try await connection.query("""
                SELECT \(unescaped: EventRecord.columns)
                FROM events e LEFT JOIN event_log l ON l.event_id = e.id
                WHERE e.item_id = \(id) ORDER BY e.version
                """, logger: self.queryLogger)
            var out: [EventRecord] = []
            for try await row in rows { out.append(try EventRecord.decode(row).0) }
            return out
        }
    }

    /// One sequencer round: numbers committed events in the global log, in commit-safe order,
    /// and returns how many it numbered and the last number handed out (nil when another
    /// instance holds the cursor). Only events of transactions older than every running
    /// transaction are taken, so a later commit can never slip in below a number already
    /// handed out. Several instances may call this at once: one sequences, the others skip.
    /// One statement, its own transaction (`docket_sequence_events`,
    /// sql/0006_sequencer_function.sql).
    ///
    /// Its commit does not wait for the WAL flush (`synchronous_commit` off for that transaction
    /// alone). Waiting doubled the flushes of a busy engine, and a command's commit queued
    /// behind the sequencer's flush. Nothing is lost by not waiting: numberings that a crash
    /// took away are made again, with the same numbers, because they are decided only by the
    /// (xid, id) order of events that are already durable. Only the latest numberings can be
    /// lost, since WAL is flushed in order: any command's commit written after them was never
    /// acknowledged either.
    @discardableResult
    public func numberEvents(limit: Int = 10_000) async throws -> (numbered: Int, through: Int64?) {
        try await read { connection in
            let statement = SequenceEventsStatement(limit: Int32(clamping: limit))
            for try await (numbered, through) in try await connection.execute(statement, logger: self.queryLogger) {
                return (Int(numbered), through)
            }
            return (0, nil)
        }
    }

    /// Events in commit order after `seq`, at most `count`.
    public func readEvents(after seq: Int64, count: Int) async throws -> [EventRecord] {
        try await read { connection in
            let rows = try await connection.query("""
                SELECT \(unescaped: EventRecord.columns)
                FROM event_log l JOIN events e ON e.id = l.event_id
                WHERE l.seq > \(seq) ORDER BY l.seq LIMIT \(count)
                """, logger: self.queryLogger)
            var out: [EventRecord] = []
            for try await row in rows { out.append(try EventRecord.decode(row).0) }
            return out
        }
    }

    public struct AuditReport: Sendable, Hashable {
        public var items: Int
        public var events: Int
        public var ok: Bool
        /// The first event whose chain does not verify: `PP-3 v4: hash does not match ...`.
        public var firstBad: AuditChain.Break?
    }

    /// Recomputes every hash chain (or one item's) from the stored events and checks it against
    /// the stored hashes and the item's last hash.
    public func verify(item id: String? = nil) async throws -> AuditReport {
        try await read { connection in
            var report = AuditReport(items: 0, events: 0, ok: true, firstBad: nil)
            var current: String?
            var chain: [(event: ChainedEvent, prevHash: [UInt8], hash: [UInt8])] = []
            var heads: [String: [UInt8]] = [:]
            var seen: Set<String> = []
            let headRows = try await connection.query("SELECT id, last_hash FROM items WHERE \(id)::text IS NULL OR id = \(id)", logger: self.queryLogger)
            for try await (item, head) in headRows.decode((String, ByteBuffer).self) { heads[item] = Array(head.readableBytesView) }
            if let id, heads[id] == nil { throw StoreError.notFound("item \(id)") }

            func finish() {
                guard let item = current else { return }
                report.items += 1
                guard report.firstBad == nil else { return }
                if let bad = AuditChain.verify(chain) {
                    report.firstBad = bad
                } else if heads[item] != chain.last?.hash {
                    report.firstBad = AuditChain.Break(item: item, version: chain.last?.event.version ?? 0,
                                                       reason: "the item's last hash does not match its latest event")
                }
            }
            let rows = try await connection.query("""
                SELECT \(unescaped: EventRecord.columns)
                FROM events e LEFT JOIN event_log l ON l.event_id = e.id
                WHERE \(id)::text IS NULL OR e.item_id = \(id)
                ORDER BY e.item_id, e.version
                """, logger: self.queryLogger)
            for try await row in rows {
                let (_, chained, prev, hash) = try EventRecord.decode(row)
                if chained.item != current {
                    finish()
                    current = chained.item
                    seen.insert(chained.item)
                    chain = []
                }
                chain.append((chained, prev, hash))
                report.events += 1
            }
            finish()
            report.items = max(report.items, heads.count)
            if report.firstBad == nil, let missing = heads.keys.sorted().first(where: { !seen.contains($0) }) {
                report.firstBad = AuditChain.Break(item: missing, version: 1, reason: "an item has no events")
            }
            report.ok = report.firstBad == nil
            return report
        }
    }
}
