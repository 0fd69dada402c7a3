import DocketCore
import Foundation
import PostgresNIO

extension Store {
    /// The result of an accepted command: the event appended and the item after it.
    public struct Applied: Sendable {
        public var event: EventRecord
        public var item: ItemSnapshot
        /// True when an idempotency key matched an earlier command: nothing was appended.
        public var replayed: Bool
    }

    /// Creates an item of the latest version of `workflow`.
    public func create(workflow name: String, _ new: NewItem, actor: Actor, key: String? = nil, now: Date) async throws -> Applied {
        let definition = try await definition(name)
        let applied: Applied
        do {
            applied = try await createOnce(definition, new, actor: actor, key: key, now: now)
        } catch is IdempotencyRace {
            applied = try await createOnce(definition, new, actor: actor, key: key, now: now)
        }
        eventsWritten.signal()
        return applied
    }

    func createOnce(_ definition: WorkflowDefinition, _ new: NewItem, actor: Actor, key: String?, now: Date) async throws -> Applied {
        let command = "create \(definition.name)"
        return try await transaction { connection in
            if let key, let earlier = try await self.replay(connection, handle: actor.handle, key: key, command: command) {
                return earlier
            }
            let checks = try await connection.query("""
                SELECT (\(new.theme)::text IS NULL OR EXISTS (SELECT 1 FROM themes WHERE slug = \(new.theme))),
                       (\(new.group)::text IS NULL OR EXISTS (SELECT 1 FROM groups WHERE slug = \(new.group)))
                """, logger: self.queryLogger)
            for try await (themeOK, groupOK) in checks.decode((Bool, Bool).self) {
                if !themeOK { throw StoreError.notFound("theme \(new.theme ?? "")") }
                if !groupOK { throw StoreError.notFound("group \(new.group ?? "")") }
            }
            let decision = Engine.decideCreate(definition, new, actor: actor, now: now)
            guard decision.allowed, let draft = decision.event, let change = decision.change,
                  case let .created(state, dueAt, timers, fields) = change else {
                throw StoreError.denied(decision)
            }
            var number: Int64 = 0
            let counter = try await connection.query("""
                INSERT INTO item_counters (prefix, last) VALUES (\(definition.prefix), 1)
                ON CONFLICT (prefix) DO UPDATE SET last = item_counters.last + 1 RETURNING last
                """, logger: self.queryLogger)
            for try await n in counter.decode(Int64.self) { number = n }
            let id = "\(definition.prefix)-\(number)"
            let chained = ChainedEvent(item: id, version: 1, draft: draft)
            let hash = chained.hash(previous: AuditChain.genesis)
            let snapshot = ItemSnapshot(
                id: id, workflow: definition.name, workflowVersion: definition.version, title: new.title,
                theme: new.theme, group: new.group, state: state, version: 1, author: actor.handle,
                createdAt: now, stateSince: now, dueAt: dueAt, fields: fields)
            let timerColumns = Self.timerColumns(timers)
            let final = definition.state(state)?.final ?? false
            let statement = try await connection.query("""
                WITH ins AS (
                    INSERT INTO items (id, workflow, workflow_version, title, theme, group_slug, state, final, version, author,
                                       created_at, state_since, due_at, round, fields, last_hash)
                    VALUES (\(id), \(definition.name), \(definition.version), \(new.title), \(new.theme), \(new.group), \(state),
                            \(final), 1, \(actor.handle), docket_ts(\(now.epochMicroseconds)), docket_ts(\(now.epochMicroseconds)),
                            docket_ts(\(dueAt?.epochMicroseconds)), 1, \(JSON.encode(fields))::jsonb, \(ByteBuffer(bytes: hash)))
                    RETURNING id),
                ev AS (
                    INSERT INTO events (item_id, version, type, transition, from_state, to_state, actor, at, comment, data, prev_hash, hash)
                    SELECT id, 1, \(chained.type), NULL, '', \(chained.to), \(chained.actor), docket_ts(\(chained.atMicros)),
                           NULL, \(JSON.encode(chained.data))::jsonb, \(ByteBuffer(bytes: AuditChain.genesis)), \(ByteBuffer(bytes: hash))
                    FROM ins RETURNING id),
                tm AS (
                    INSERT INTO timers (item_id, round, kind, name, fire_at)
                    SELECT \(id), 1, k, n, docket_ts(f) FROM unnest(\(timerColumns.kinds)::text[], \(timerColumns.names)::text[], \(timerColumns.times)::int8[]) AS t(k, n, f)),
                k AS (
                    INSERT INTO idempotency_keys (handle, key, item_id, command, event_id)
                    SELECT \(actor.handle), \(key), \(id), \(command), ev.id FROM ev WHERE \(key)::text IS NOT NULL)
                SELECT id FROM ev
                """, logger: self.queryLogger)
            do {
                for try await _ in statement {}
            } catch where Self.isUniqueViolation(error, constraint: "idempotency_keys_pkey") {
                throw IdempotencyRace()
            }
            return Applied(event: EventRecord(seq: nil, chained: chained, hash: hash), item: snapshot, replayed: false)
        }
    }

    /// Applies `command` to item `id`: lock, load the snapshot, decide, write item + event + chain,
    /// all in one transaction. A stale `ifVersion` is a conflict; a repeated `key` returns the
    /// first answer and appends nothing.
    public func apply(_ command: Command, to id: String, actor: Actor, ifVersion: Int? = nil, key: String? = nil, now: Date) async throws -> Applied {
        let applied: Applied
        do {
            applied = try await applyOnce(command, to: id, actor: actor, ifVersion: ifVersion, key: key, now: now)
        } catch is IdempotencyRace {
            applied = try await applyOnce(command, to: id, actor: actor, ifVersion: ifVersion, key: key, now: now)
        }
        eventsWritten.signal()
        return applied
    }

    /// One attempt, usually in two round trips on one pooled connection and no explicit
    /// transaction: read the item row (the whole snapshot), decide, then one statement that
    /// writes the row, the event, revision, timers and key only if the row still has the version
    /// that was read (compare-and-set; the statement is its own transaction). When another
    /// command moved the item in between, nothing is written and the command is decided again
    /// on the new row, without holding a transaction open across the decision. A command that
    /// loses `optimisticAttempts` times in a row (a crowd on one item) stops racing: it takes
    /// the item's row lock and waits its turn, for at most three quarters of the store's timeout.
    /// `IFVERSION` is checked against the row the decision is made on.
    func applyOnce(_ command: Command, to id: String, actor: Actor, ifVersion: Int?, key: String?, now: Date) async throws -> Applied {
        let commandText = Self.describe(command, id: id)
        /// The answer this key already has, if any.
        @Sendable func earlier(_ connection: PostgresConnection) async throws -> Applied? {
            guard let key else { return nil }
            return try await self.replay(connection, handle: actor.handle, key: key, command: commandText)
        }
        let raced = try await read { connection -> Applied? in
            if let earlier = try await earlier(connection) { return earlier }
            for _ in 0..<self.optimisticAttempts {
                let row = try await self.loadItem(connection, id: id)
                let applied: Applied?
                do {
                    applied = try await self.decideAndWrite(connection, row: row, command: command, actor: actor, ifVersion: ifVersion,
                                                            key: key, commandText: commandText, now: now, compareAndSet: true)
                } catch let error as StoreError {
                    // The item may have moved because a simultaneous use of this very key went
                    // first: then that use's answer is this one's too.
                    if let earlier = try await earlier(connection) { return earlier }
                    throw error
                }
                if let applied { return applied }
                // Another command moved the item between the read and the write: if it was this
                // key's twin, answer with its event; otherwise decide again on the new state.
                if let earlier = try await earlier(connection) { return earlier }
            }
            return nil
        }
        if let raced { return raced }
        lockedWrites.withLockedValue { $0 += 1 }
        // Waiting for the lock ends before the store's timeout answers, so the answer is never
        // UNAVAILABLE for a write that then commits.
        let lockTimeoutMS = max(1, TimeAmount(timeout).nanoseconds / 1_000_000 * 3 / 4)
        return try await transaction { connection in
            try await connection.query("SET LOCAL lock_timeout = \(unescaped: String(lockTimeoutMS))", logger: self.queryLogger)
            let row = try await self.lockItem(connection, id: id)
            if let earlier = try await earlier(connection) { return earlier }
            return try await self.applyLocked(connection, row: row, command: command, actor: actor, ifVersion: ifVersion,
                                              key: key, commandText: commandText, now: now)
        }
    }

    /// Decides and writes `command` on an item already locked in this transaction.
    func applyLocked(_ connection: PostgresConnection, row: ItemRow, command: Command, actor: Actor, ifVersion: Int?,
                     key: String?, commandText: String, now: Date) async throws -> Applied {
        guard let applied = try await decideAndWrite(connection, row: row, command: command, actor: actor, ifVersion: ifVersion,
                                                     key: key, commandText: commandText, now: now, compareAndSet: false) else {
            throw StoreError.unavailable("item \(row.snapshot.id) was not written")
        }
        return applied
    }

    /// Decides `command` on `row` and writes the result; nil when `compareAndSet` found the row
    /// at another version than `row` (nothing was written).
    func decideAndWrite(_ connection: PostgresConnection, row: ItemRow, command: Command, actor: Actor, ifVersion: Int?,
                        key: String?, commandText: String, now: Date, compareAndSet: Bool) async throws -> Applied? {
        let item = row.snapshot
        let id = item.id
        let definition = try await definition(item.workflow, version: item.workflowVersion)
        guard Engine.canSee(definition, item, actor: actor) else { throw StoreError.notFound("item \(id)") }
        if let ifVersion, ifVersion != item.version {
            throw StoreError.conflict(item: id, current: item.version, expected: ifVersion)
        }
        let decision = Engine.decide(definition, item, actor: actor, command: command, now: now)
        guard let draft = decision.event, let change = decision.change else { throw StoreError.denied(decision) }
        if case let .assignment(users) = change {
            try await requireUsers(connection, users)
        }
        if case let .endorsement(e) = change {
            try await requireMember(connection, e.member)
        }
        let next = item.applying(change, definition: definition, now: now)
        let chained = ChainedEvent(item: id, version: next.version, draft: draft)
        let hash = chained.hash(previous: row.lastHash)
        let wrote = try await write(connection, next: next, definition: definition, chained: chained, prev: row.lastHash,
                                    hash: hash, change: change, key: key, command: commandText,
                                    expectedVersion: compareAndSet ? item.version : nil)
        guard wrote else { return nil }
        return Applied(event: EventRecord(seq: nil, chained: chained, hash: hash), item: next, replayed: false)
    }

    /// What the engine would decide, with every check, without changing anything.
    public func explain(_ command: Command, on id: String, actor: Actor, now: Date) async throws -> Decision {
        let row = try await read { connection in try await self.loadItem(connection, id: id) }
        let definition = try await definition(row.snapshot.workflow, version: row.snapshot.workflowVersion)
        guard Engine.canSee(definition, row.snapshot, actor: actor) else { throw StoreError.notFound("item \(id)") }
        return Engine.decide(definition, row.snapshot, actor: actor, command: command, now: now)
    }

    /// One item, as `actor` may see it.
    public func item(_ id: String, actor: Actor) async throws -> ItemSnapshot {
        let row = try await read { connection in try await self.loadItem(connection, id: id) }
        let definition = try? await definition(row.snapshot.workflow, version: row.snapshot.workflowVersion)
        guard Engine.canSee(definition, row.snapshot, actor: actor) else { throw StoreError.notFound("item \(id)") }
        return row.snapshot
    }

    // MARK: internals

    func lockItem(_ connection: PostgresConnection, id: String) async throws -> ItemRow {
        let rows = try await connection.query("SELECT \(unescaped: ItemRow.columns) FROM items WHERE id = \(id) FOR UPDATE", logger: queryLogger)
        for try await row in rows { return try ItemRow(row) }
        throw StoreError.notFound("item \(id)")
    }

    func loadItem(_ connection: PostgresConnection, id: String) async throws -> ItemRow {
        for try await row in try await connection.execute(LoadItemStatement(id: id), logger: queryLogger) { return row }
        throw StoreError.notFound("item \(id)")
    }

    /// Writes the item row, its event, a revision's text, the timers and the idempotency key in
    /// one statement. With `expectedVersion` the row is written only if it still has that
    /// version, and nothing else is written otherwise; returns whether it was written.
    @discardableResult
    func write(_ connection: PostgresConnection, next: ItemSnapshot, definition: WorkflowDefinition, chained: ChainedEvent,
               prev: [UInt8], hash: [UInt8], change: Change, key: String?, command: String,
               expectedVersion: Int? = nil) async throws -> Bool {
        var revision: (text: String, note: String?, sha256: String)?
        if case let .revision(_, text, note, sha) = change { revision = (text, note, sha) }
        var replaceTimers = false
        var timers: [TimerDraft] = []
        if case let .transition(_, _, newTimers) = change {
            replaceTimers = true
            timers = newTimers
        }
        let statement = WriteItemStatement(
            next: next, final: definition.state(next.state)?.final ?? false, hash: hash, expectedVersion: expectedVersion,
            chained: chained, prev: prev, revision: revision, replaceTimers: replaceTimers, timers: Self.timerColumns(timers),
            key: key, command: command)
        do {
            var wrote = false
            for try await _ in try await connection.execute(statement, logger: queryLogger) { wrote = true }
            return wrote
        } catch where Self.isUniqueViolation(error, constraint: "idempotency_keys_pkey") {
            throw IdempotencyRace()
        }
    }

    static func timerColumns(_ timers: [TimerDraft]) -> (kinds: [String], names: [String], times: [Int64]) {
        var kinds: [String] = [], names: [String] = [], times: [Int64] = []
        for timer in timers {
            switch timer.kind {
            case let .reminder(index):
                kinds.append("reminder")
                names.append(String(index))
            case let .transition(name):
                kinds.append("transition")
                names.append(name)
            }
            times.append(timer.fireAt.epochMicroseconds)
        }
        return (kinds, names, times)
    }

    /// The earlier answer for a repeated idempotency key, or nil when the key is new.
    func replay(_ connection: PostgresConnection, handle: String, key: String, command: String) async throws -> Applied? {
        let rows = try await connection.query("""
            SELECT k.command, \(unescaped: EventRecord.columns)
            FROM idempotency_keys k JOIN events e ON e.id = k.event_id LEFT JOIN event_log l ON l.event_id = e.id
            WHERE k.handle = \(handle) AND k.key = \(key)
            """, logger: queryLogger)
        for try await row in rows {
            let earlierCommand = try row.makeRandomAccess()[0].decode(String.self, context: .default)
            guard earlierCommand == command else {
                throw StoreError.invalid("idempotency key \(key) was already used for another command (\(earlierCommand))")
            }
            let (record, _, _, _) = try EventRecord.decode(row, offset: 1)
            let item = try await loadItem(connection, id: record.item).snapshot
            return Applied(event: record, item: item, replayed: true)
        }
        return nil
    }

    func requireUsers(_ connection: PostgresConnection, _ users: [String]) async throws {
        let rows = try await connection.query("SELECT u FROM unnest(\(users)::text[]) u WHERE NOT EXISTS (SELECT 1 FROM users WHERE handle = u)", logger: queryLogger)
        for try await missing in rows.decode(String.self) { throw StoreError.notFound("user \(missing)") }
    }

    func requireMember(_ connection: PostgresConnection, _ member: String) async throws {
        let rows = try await connection.query("SELECT 1 FROM members WHERE slug = \(member)", logger: queryLogger)
        for try await _ in rows { return }
        throw StoreError.notFound("member \(member)")
    }

    /// A stable text for an idempotency key's command, so a key reused for something else is caught.
    static func describe(_ command: Command, id: String) -> String {
        switch command {
        case let .fire(t, _): "fire \(id) \(t)"
        case let .setField(name, _): "set \(id) \(name)"
        case .revise: "revise \(id)"
        case let .vote(v, _): "vote \(id) \(v.rawValue)"
        case let .endorse(m, _): "endorse \(id) \(m)"
        case let .withdrawEndorsement(m): "withdraw \(id) \(m)"
        case .comment: "comment \(id)"
        case let .assign(users): "assign \(id) \(users.joined(separator: ","))"
        case let .addMilestone(title, _): "milestone \(id) \(title)"
        case let .completeMilestone(n): "milestone-done \(id) \(n)"
        case let .remind(i): "remind \(id) \(i)"
        }
    }
}
