import DocketCore
import Foundation
import PostgresNIO

extension Store {
    public struct ItemFilter: Sendable, Hashable {
        public var workflow: String?
        public var state: String?
        public var theme: String?
        public var group: String?
        public var overdue = false
        /// Items waiting on this user.
        public var waiting: String?
        public var limit = 100
        /// Page after this item id.
        public var after: String?
        public init() {}
    }

    /// Items matching `filter` that `actor` may see, oldest first.
    public func list(_ filter: ItemFilter, actor: Actor, now: Date) async throws -> [ItemSnapshot] {
        var out: [ItemSnapshot] = []
        var cursor: Int64 = 0
        if let after = filter.after {
            cursor = try await read { c in
                for try await n in try await c.query("SELECT n FROM items WHERE id = \(after)", logger: self.queryLogger).decode(Int64.self) { return n }
                throw StoreError.notFound("item \(after)")
            }
        }
        var waitingActor: Actor?
        if let w = filter.waiting { waitingActor = try await self.actor(w) }
        let batch = max(filter.limit, 50)
        while out.count < filter.limit {
            let from = cursor
            let rows: [(Int64, ItemRow)] = try await read { c in
                let result = try await c.query("""
                    SELECT n, \(unescaped: ItemRow.columns) FROM items
                    WHERE n > \(from)
                      AND (\(filter.workflow)::text IS NULL OR workflow = \(filter.workflow))
                      AND (\(filter.state)::text IS NULL OR state = \(filter.state))
                      AND (\(filter.theme)::text IS NULL OR theme = \(filter.theme))
                      AND (\(filter.group)::text IS NULL OR group_slug = \(filter.group))
                      AND (NOT \(filter.overdue) OR (NOT final AND due_at < docket_ts(\(now.epochMicroseconds))))
                      AND (\(filter.waiting)::text IS NULL OR NOT final)
                    ORDER BY n LIMIT \(batch)
                    """, logger: self.queryLogger)
                var rows: [(Int64, ItemRow)] = []
                for try await row in result {
                    rows.append((try row.makeRandomAccess()[0].decode(Int64.self, context: .default), try ItemRow(row, offset: 1)))
                }
                return rows
            }
            for (n, row) in rows {
                cursor = n
                let definition = try? await definition(row.snapshot.workflow, version: row.snapshot.workflowVersion)
                guard Engine.canSee(definition, row.snapshot, actor: actor) else { continue }
                if let waitingActor, let definition, !Self.waits(row.snapshot, on: waitingActor, definition) { continue }
                out.append(row.snapshot)
                if out.count == filter.limit { break }
            }
            if rows.count < batch { break }
        }
        return out
    }

    /// Whether `item` waits on `user`: an assigned reviewer who has not voted this round, or
    /// (when none is left) its author or someone holding a role that can move it on:
    /// `ItemSnapshot.waiting`, read on roles and handles apart, so a handle that happens to be
    /// spelled like a role is not mistaken for it.
    static func waits(_ item: ItemSnapshot, on user: Actor, _ definition: WorkflowDefinition) -> Bool {
        guard let waiting = item.waiting(definition) else { return false }
        if !waiting.pending.isEmpty { return waiting.pending.contains(user.handle) }
        let roles = user.roles(on: item)
        return waiting.roles.contains { $0 == .author ? item.author == user.handle : $0 != .member && roles.contains($0) }
    }

    /// The text of revision `number` (the latest when nil).
    public func revisionText(_ id: String, number: Int? = nil, actor: Actor) async throws -> (number: Int, text: String) {
        let item = try await item(id, actor: actor)
        guard item.revisions > 0 else { throw StoreError.notFound("revision of \(id) (it has none yet)") }
        let wanted = number ?? item.revisions
        return try await read { c in
            for try await text in try await c.query("SELECT body FROM revisions WHERE item_id = \(id) AND number = \(wanted)", logger: self.queryLogger).decode(String.self) {
                return (wanted, text)
            }
            throw StoreError.notFound("revision \(wanted) of \(id)")
        }
    }

    public struct StatusRow: Sendable, Hashable {
        public var workflow, state: String
        public var theme: String?
        public var items, overdue: Int
    }

    /// The board: items per workflow, state and theme, with how many are overdue, now or as
    /// they stood at `asOf` (rebuilt from the event log).
    public func status(workflow: String? = nil, theme: String? = nil, asOf: Date? = nil, actor: Actor, now: Date) async throws -> [StatusRow] {
        let at = (asOf ?? now).epochMicroseconds
        if asOf == nil { return try await currentStatus(workflow: workflow, theme: theme, actor: actor, at: at) }
        let rows: [(ItemSnapshot, Bool)] = try await read { c in
            // The state each item was in at `at`: its last state-changing event by then.
            let result = try await c.query("""
                SELECT \(unescaped: ItemRow.columns(prefix: "i").replacingOccurrences(of: "i.state,", with: "s.to_state,").replacingOccurrences(of: "docket_micros(i.state_since)", with: "docket_micros(s.at)"))
                FROM items i
                JOIN LATERAL (
                    SELECT e.to_state, e.at FROM events e
                    WHERE e.item_id = i.id AND e.at <= docket_ts(\(at)) AND e.type IN ('created', 'transition', 'migration')
                    ORDER BY e.version DESC LIMIT 1) s ON true
                WHERE i.created_at <= docket_ts(\(at))
                  AND (\(workflow)::text IS NULL OR i.workflow = \(workflow)) AND (\(theme)::text IS NULL OR i.theme = \(theme))
                """, logger: self.queryLogger)
            var out: [(ItemSnapshot, Bool)] = []
            for try await row in result { let r = try ItemRow(row); out.append((r.snapshot, r.final)) }
            return out
        }
        var counts: [String: StatusRow] = [:]
        for (item, _) in rows {
            guard let definition = try? await definition(item.workflow, version: item.workflowVersion),
                  Engine.canSee(definition, item, actor: actor) else { continue }
            let state = definition.state(item.state)
            // Due time as of `at`: entry into the state plus the state's `due`.
            let due = state?.due.map { item.stateSince.adding($0) }
            let overdue = !(state?.final ?? false) && (due.map { $0.epochMicroseconds < at } ?? false)
            let key = "\(item.workflow)\u{0}\(item.state)\u{0}\(item.theme ?? "")"
            var row = counts[key] ?? StatusRow(workflow: item.workflow, state: item.state, theme: item.theme, items: 0, overdue: 0)
            row.items += 1
            if overdue { row.overdue += 1 }
            counts[key] = row
        }
        return counts.values.sorted { ($0.workflow, $0.state, $0.theme ?? "") < ($1.workflow, $1.state, $1.theme ?? "") }
    }

    public struct CycleRow: Sendable, Hashable {
        public var workflow, state: String
        public var entered: Int
        public var medianSeconds, p90Seconds: Double?
    }

    /// Time spent per state: how often items entered it, and the median and 90th percentile
    /// of completed stays.
    public func cycle(workflow: String? = nil, since: Date? = nil) async throws -> [CycleRow] {
        try await read { c in
            let rows = try await c.query("""
                WITH stays AS (
                    SELECT i.workflow, e.to_state AS state, e.at,
                           lead(e.at) OVER (PARTITION BY e.item_id ORDER BY e.version) AS left_at
                    FROM events e JOIN items i ON i.id = e.item_id
                    WHERE e.type IN ('created', 'transition', 'migration')
                      AND (\(workflow)::text IS NULL OR i.workflow = \(workflow)))
                SELECT workflow, state, count(*)::int,
                       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM left_at - at)) FILTER (WHERE left_at IS NOT NULL),
                       percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM left_at - at)) FILTER (WHERE left_at IS NOT NULL)
                FROM stays
                WHERE \(since?.epochMicroseconds)::int8 IS NULL OR at >= docket_ts(\(since?.epochMicroseconds))
                GROUP BY workflow, state ORDER BY workflow, state
                """, logger: self.queryLogger)
            var out: [CycleRow] = []
            for try await (w, s, n, median, p90) in rows.decode((String, String, Int, Double?, Double?).self) {
                out.append(CycleRow(workflow: w, state: s, entered: n, medianSeconds: median, p90Seconds: p90))
            }
            return out
        }
    }
}

extension Store {
    /// Current snapshots of several items, by id (no visibility check: callers filter).
    public func snapshots(_ ids: [String]) async throws -> [String: ItemSnapshot] {
        guard !ids.isEmpty else { return [:] }
        return try await read { c in
            var out: [String: ItemSnapshot] = [:]
            for try await row in try await c.query("SELECT \(unescaped: ItemRow.columns) FROM items WHERE id = ANY(\(ids))", logger: self.queryLogger) {
                let r = try ItemRow(row)
                out[r.snapshot.id] = r.snapshot
            }
            return out
        }
    }

    /// The highest sequence number handed out so far.
    public func lastSequence() async throws -> Int64 {
        try await read { c in
            for try await n in try await c.query("SELECT last_seq FROM event_sequencer WHERE id = 1", logger: self.queryLogger).decode(Int64.self) { return n }
            return 0
        }
    }
}
