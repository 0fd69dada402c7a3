import DocketCore
import Foundation
import PostgresNIO

/// REPORT.STATUS and REPORT.WAITING at any size: the board's counts are kept as items move
/// (`sql/0003_board.sql`), and "waiting on" is narrowed down in SQL before it is decided
/// exactly here.
extension Store {
    /// Moves the board's pending changes into its counts; returns how many it moved (0 when
    /// another instance is folding). Reports are exact without it; it keeps them cheap.
    @discardableResult
    public func foldBoard() async throws -> Int {
        try await read { c in
            for try await n in try await c.query("SELECT docket_board_fold()", logger: self.queryLogger).decode(Int64.self) { return Int(n) }
            return 0
        }
    }

    /// One cell of the board: what visibility and the report's rows depend on.
    struct BoardKey: Hashable {
        var workflow: String
        var version: Int
        var state: String
        var theme: String
        var group: String

        init(_ workflow: String, _ version: Int, _ state: String, _ theme: String, _ group: String) {
            (self.workflow, self.version, self.state, self.theme, self.group) = (workflow, version, state, theme, group)
        }

        /// A stand-in item with exactly what visibility looks at.
        func standIn(author: String = "\u{0}", assignees: [String] = []) -> ItemSnapshot {
            let epoch = Date(epochMicroseconds: 0)
            return ItemSnapshot(id: "", workflow: workflow, workflowVersion: version, title: "", theme: theme.isEmpty ? nil : theme,
                                group: group.isEmpty ? nil : group, state: state, version: 1, author: author,
                                createdAt: epoch, stateSince: epoch, assignees: assignees)
        }
    }

    /// The board now: counts from `board` plus the changes not folded yet (overdue are the
    /// open items due before today, and those due today whose due time has passed), and, for
    /// states the actor sees only as author or assignee, their own items counted one by one.
    func currentStatus(workflow: String?, theme: String?, actor: Actor, at: Int64) async throws -> [StatusRow] {
        let today = Int64((Double(at) / 86_400_000_000).rounded(.down))
        // One snapshot for the three queries, so `overdue` and `items` agree under moves.
        return try await snapshot { c in
            var cells: [BoardKey: Int] = [:]
            var overdue: [BoardKey: Int] = [:]
            var dueToday = false
            for try await (w, v, s, t, g, n, late, today) in try await c.query("""
                SELECT workflow, workflow_version, state, theme, group_slug, sum(items)::int8,
                       coalesce(sum(items) FILTER (WHERE due_day >= 0 AND due_day < \(today)), 0)::int8,
                       coalesce(sum(items) FILTER (WHERE due_day = \(today)), 0)::int8
                FROM (SELECT workflow, workflow_version, state, theme, group_slug, due_day, items FROM board
                      UNION ALL
                      SELECT workflow, workflow_version, state, theme, group_slug, due_day, delta FROM board_changes) b
                WHERE (\(workflow)::text IS NULL OR workflow = \(workflow)) AND (\(theme)::text IS NULL OR theme = \(theme))
                GROUP BY 1, 2, 3, 4, 5 HAVING sum(items) <> 0
                """, logger: self.queryLogger).decode((String, Int, String, String, String, Int, Int, Int).self) {
                let key = BoardKey(w, v, s, t, g)
                cells[key] = n
                overdue[key] = late
                if today != 0 { dueToday = true }
            }
            // Items due today are overdue or not by the clock: only those are looked at.
            if dueToday {
                for try await (w, v, s, t, g, n) in try await c.query("""
                    SELECT workflow, workflow_version, state, coalesce(theme, ''), coalesce(group_slug, ''), count(*)::int8
                    FROM items
                    WHERE NOT final AND due_at >= docket_ts(\(today * 86_400_000_000)) AND due_at < docket_ts(\(at))
                      AND (\(workflow)::text IS NULL OR workflow = \(workflow)) AND (\(theme)::text IS NULL OR theme = \(theme))
                    GROUP BY 1, 2, 3, 4, 5
                    """, logger: self.queryLogger).decode((String, Int, String, String, String, Int).self) {
                    overdue[BoardKey(w, v, s, t, g), default: 0] += n
                }
            }

            var counts: [String: StatusRow] = [:]
            func add(_ key: BoardKey, items: Int, overdue: Int) {
                let id = "\(key.workflow)\u{0}\(key.state)\u{0}\(key.theme)"
                var row = counts[id] ?? StatusRow(workflow: key.workflow, state: key.state, theme: key.theme.isEmpty ? nil : key.theme, items: 0, overdue: 0)
                row.items += items
                row.overdue += overdue
                counts[id] = row
            }
            var partly: Set<BoardKey> = []
            for (key, n) in cells {
                guard let definition = try? await self.definition(key.workflow, version: key.version) else { continue }
                if Engine.canSee(definition, key.standIn(), actor: actor) {
                    add(key, items: n, overdue: overdue[key] ?? 0)
                } else if Engine.canSee(definition, key.standIn(assignees: [actor.handle]), actor: actor)
                            || Engine.canSee(definition, key.standIn(author: actor.handle), actor: actor) {
                    partly.insert(key)
                }
            }
            if !partly.isEmpty {
                // States hidden from the actor except for their own items: count those.
                let handle = actor.handle
                let states = Array(Set(partly.map(\.state)))
                for try await (w, v, s, t, g, authored, assigned, n, late) in try await c.query("""
                    SELECT workflow, workflow_version, state, coalesce(theme, ''), coalesce(group_slug, ''),
                           author = \(handle), \(handle) = ANY (assignees),
                           count(*)::int8, (count(*) FILTER (WHERE NOT final AND due_at < docket_ts(\(at))))::int8
                    FROM items
                    WHERE (author = \(handle) OR \(handle) = ANY (assignees)) AND state = ANY (\(states))
                      AND (\(workflow)::text IS NULL OR workflow = \(workflow)) AND (\(theme)::text IS NULL OR theme = \(theme))
                    GROUP BY 1, 2, 3, 4, 5, 6, 7
                    """, logger: self.queryLogger).decode((String, Int, String, String, String, Bool, Bool, Int, Int).self) {
                    let key = BoardKey(w, v, s, t, g)
                    guard partly.contains(key), let definition = try? await self.definition(key.workflow, version: key.version) else { continue }
                    let standIn = key.standIn(author: authored ? handle : "\u{0}", assignees: assigned ? [handle] : [])
                    if Engine.canSee(definition, standIn, actor: actor) { add(key, items: n, overdue: late) }
                }
            }
            return counts.values.sorted { ($0.workflow, $0.state, $0.theme ?? "") < ($1.workflow, $1.state, $1.theme ?? "") }
        }
    }

    public struct WaitingRow: Sendable, Hashable {
        public var item, state: String
        public var waitingOn: [String]
        public var since: Date
        public var dueAt: Date?
    }

    /// Who open items wait on, longest waiting first (by the time they entered their state),
    /// at most `limit` of them; only items waiting on `user` when given.
    public func waiting(user: String? = nil, limit: Int = 100, actor: Actor, now: Date) async throws -> [WaitingRow] {
        var target: Actor?
        if let user { target = try await self.actor(user) }
        var narrowing: WaitingFilter?
        if let target {
            let versions: [(String, Int)] = try await read { c in
                var out: [(String, Int)] = []
                for try await row in try await c.query("SELECT name, version FROM workflows", logger: self.queryLogger).decode((String, Int).self) { out.append(row) }
                return out
            }
            var definitions: [WorkflowDefinition] = []
            for (name, version) in versions { if let d = try? await definition(name, version: version) { definitions.append(d) } }
            narrowing = WaitingFilter(on: target, definitions)
            if narrowing?.isEmpty == true { return [] }
        }

        var out: [WaitingRow] = []
        var cursor: (since: Int64, id: String)?
        let batch = min(max(limit, 100), 2_000)
        while out.count < limit {
            let query = Self.waitingQuery(after: cursor, narrowing, batch: batch)
            let rows: [(Int64, ItemRow)] = try await read { c in
                var rows: [(Int64, ItemRow)] = []
                for try await row in try await c.query(query, logger: self.queryLogger) {
                    rows.append((try row.makeRandomAccess()[0].decode(Int64.self, context: .default), try ItemRow(row, offset: 1)))
                }
                return rows
            }
            for (since, row) in rows {
                cursor = (since, row.snapshot.id)
                let item = row.snapshot
                guard let definition = try? await definition(item.workflow, version: item.workflowVersion),
                      definition.state(item.state)?.final == false,
                      Engine.canSee(definition, item, actor: actor) else { continue }
                if let target, !Self.waits(item, on: target, definition) { continue }
                out.append(WaitingRow(item: item.id, state: item.state, waitingOn: item.waitingOn(definition), since: item.stateSince, dueAt: item.dueAt))
                if out.count == limit { break }
            }
            if rows.count < batch { break }
        }
        return out
    }

    /// Open items in `since, id` order after `cursor`, narrowed to those that may wait on a user.
    static func waitingQuery(after cursor: (since: Int64, id: String)?, _ narrowing: WaitingFilter?, batch: Int) -> PostgresQuery {
        var binds = PostgresBindings()
        func bind(_ value: some PostgresNonThrowingEncodable) -> String {
            binds.append(value)
            return "$\(binds.count)"
        }
        var sql = "SELECT docket_micros(state_since), \(ItemRow.waitingColumns) FROM items WHERE NOT final"
        if let cursor { sql += " AND (state_since, id) > (docket_ts(\(bind(cursor.since))), \(bind(cursor.id)))" }
        if let narrowing {
            var terms: [String] = []
            for (workflow, states) in narrowing.byRole.sorted(by: { $0.key < $1.key }) {
                terms.append("(workflow = \(bind(workflow)) AND state = ANY (\(bind(states.sorted()))))")
            }
            for (group, perWorkflow) in narrowing.byGroupRole.sorted(by: { $0.key < $1.key }) {
                for (workflow, states) in perWorkflow.sorted(by: { $0.key < $1.key }) {
                    terms.append("(group_slug = \(bind(group)) AND workflow = \(bind(workflow)) AND state = ANY (\(bind(states.sorted()))))")
                }
            }
            let handle = narrowing.handle
            for (workflow, states) in narrowing.asAuthor.sorted(by: { $0.key < $1.key }) {
                terms.append("(author = \(bind(handle)) AND workflow = \(bind(workflow)) AND state = ANY (\(bind(states.sorted()))))")
            }
            for (workflow, states) in narrowing.asAssignee.sorted(by: { $0.key < $1.key }) {
                terms.append("(assignees @> \(bind([handle])) AND workflow = \(bind(workflow)) AND state = ANY (\(bind(states.sorted()))))")
            }
            sql += " AND (" + terms.joined(separator: " OR ") + ")"
        }
        sql += " ORDER BY state_since, id LIMIT \(bind(Int64(batch)))"
        return PostgresQuery(unsafeSQL: sql, binds: binds)
    }
}

/// The states, per workflow, in which an item may wait on one user: a superset, which
/// `Store.waits` then decides exactly item by item (an assigned reviewer who has not voted
/// comes before the roles). Versions of a workflow are merged.
struct WaitingFilter {
    let handle: String
    /// States a role the user holds everywhere (secretariat, admin) can move on.
    var byRole: [String: Set<String>] = [:]
    /// Per working group: states a role the user holds in it can move on.
    var byGroupRole: [String: [String: Set<String>]] = [:]
    /// States the author of an item can move on.
    var asAuthor: [String: Set<String>] = [:]
    /// States in which an assignee votes or can move the item on.
    var asAssignee: [String: Set<String>] = [:]

    var isEmpty: Bool { byRole.isEmpty && byGroupRole.isEmpty && asAuthor.isEmpty && asAssignee.isEmpty }

    init(on user: Actor, _ definitions: [WorkflowDefinition]) {
        handle = user.handle
        for definition in definitions {
            for state in definition.states where !state.final {
                let movers = Set(state.transitions.filter { $0.after == nil }.flatMap(\.by))
                if !movers.isDisjoint(with: user.globalRoles.subtracting([.member])) { byRole[definition.name, default: []].insert(state.name) }
                for (group, roles) in user.groupRoles where !roles.isEmpty && !movers.isDisjoint(with: roles.union([.group])) {
                    byGroupRole[group, default: [:]][definition.name, default: []].insert(state.name)
                }
                if movers.contains(.author) { asAuthor[definition.name, default: []].insert(state.name) }
                if movers.contains(.assignee) || state.review != nil { asAssignee[definition.name, default: []].insert(state.name) }
            }
        }
    }
}
