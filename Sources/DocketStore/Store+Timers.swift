import DocketCore
import Foundation
import PostgresNIO

extension Store {
    /// What one due timer did.
    public struct FiredTimer: Sendable, Hashable {
        public var item: String
        public var kind: String
        public var name: String
        /// The event appended, or nil when the timer was obsolete or its guards failed.
        public var event: EventRecord?
        public var problem: String?
    }

    /// Claims one timer due at `now`, fires it as the scheduler in the same transaction, and
    /// deletes it. Returns nil when nothing is due. Each timer fires exactly once, however many
    /// instances run this at once.
    ///
    /// The claim locks the timer's item, skipping items another transaction holds (another
    /// instance firing one of its timers, or a command writing it), and only then takes the
    /// timer by deleting it: the order a command's write takes them in (the item's row, then
    /// its timers). A claim that held the timer and then waited for the item would deadlock
    /// with such a command; one that held a timer it skipped could deadlock across instances.
    /// (The query names `items` first too, so its table locks come in the write's order.) A
    /// skipped timer fires at a later claim, usually the next tick.
    public func fireNextDueTimer(now: Date) async throws -> FiredTimer? {
        while true {
            switch try await claimDueTimer(now: now) {
            case .nothingDue:
                return nil
            case .gone:
                // Deleted by the item's previous holder, which committed after the claim's
                // query had read the row: look again.
                continue
            case let .fired(fired, refusal):
                if let refusal {
                    logger.notice("timer refused", metadata: ["docket.item": "\(fired.item)", "docket.timer": "\(fired.kind) \(fired.name)", "docket.refusal": "\(refusal)"])
                }
                if fired.event != nil { eventsWritten.signal() }
                return fired
            }
        }
    }

    private enum TimerClaim: Sendable {
        case nothingDue
        /// The timer read was deleted before its item's lock was had.
        case gone
        case fired(FiredTimer, refusal: String?)
    }

    private func claimDueTimer(now: Date) async throws -> TimerClaim {
        try await transaction { connection in
            let claimed = try await connection.query("""
                SELECT t.id, t.item_id, t.round, t.kind, t.name FROM items i JOIN timers t ON t.item_id = i.id
                WHERE t.fire_at <= docket_ts(\(now.epochMicroseconds))
                ORDER BY t.fire_at, t.id LIMIT 1 FOR UPDATE OF i SKIP LOCKED
                """, logger: self.queryLogger)
            var timer: (Int64, String, Int, String, String)?
            for try await row in claimed.decode((Int64, String, Int, String, String).self) { timer = row }
            guard let (timerID, itemID, round, kind, name) = timer else { return .nothingDue }
            // The timer row is as the query's snapshot had it: if the item's previous holder
            // deleted it and committed meanwhile, it is gone, and nothing is fired.
            var deleted = false
            for try await _ in try await connection.query("DELETE FROM timers WHERE id = \(timerID) RETURNING id", logger: self.queryLogger) {
                deleted = true
            }
            guard deleted else { return .gone }
            let row = try await self.lockItem(connection, id: itemID)
            var fired = FiredTimer(item: itemID, kind: kind, name: name, event: nil, problem: nil)
            guard row.snapshot.round == round else {
                fired.problem = "obsolete: the item has left the state the timer was set in"
                return .fired(fired, refusal: nil)
            }
            let command: Command = kind == "reminder" ? .remind(index: Int(name) ?? 0) : .fire(transition: name)
            do {
                let applied = try await self.applyLocked(connection, row: row, command: command, actor: .system, ifVersion: nil,
                                                         key: nil, commandText: Self.describe(command, id: itemID), now: now)
                fired.event = applied.event
                return .fired(fired, refusal: nil)
            } catch let StoreError.denied(decision) {
                fired.problem = decision.refusal
                return .fired(fired, refusal: decision.refusal)
            }
        }
    }

    /// Fires every timer due at `now`; returns what fired.
    @discardableResult
    public func fireDueTimers(now: Date, limit: Int = 10_000) async throws -> [FiredTimer] {
        var out: [FiredTimer] = []
        while out.count < limit, let fired = try await fireNextDueTimer(now: now) { out.append(fired) }
        return out
    }

    /// When the next timer is due, if any.
    public func nextTimerDue() async throws -> Date? {
        try await read { c in
            for try await micros in try await c.query("SELECT docket_micros(min(fire_at)) FROM timers", logger: self.queryLogger).decode(Int64?.self) {
                return micros.map(Date.init(epochMicroseconds:))
            }
            return nil
        }
    }
}

extension Store {
    /// Moves the running items of `name` to `version`: each in its own transaction, with a
    /// `migration` event. Stranded items are listed and left untouched. `dryRun` changes nothing.
    public func migrate(workflow name: String, to version: Int, dryRun: Bool, actor: Actor, now: Date) async throws -> [WorkflowMigration.Plan] {
        let target = try await definition(name, version: version)
        let ids: [String] = try await read { c in
            var out: [String] = []
            for try await id in try await c.query("""
                SELECT id FROM items WHERE workflow = \(name) AND workflow_version <> \(version) AND NOT final ORDER BY n
                """, logger: self.queryLogger).decode(String.self) { out.append(id) }
            return out
        }
        var plans: [WorkflowMigration.Plan] = []
        for id in ids {
            if dryRun {
                let row = try await read { c in try await self.loadItem(c, id: id) }
                plans.append(WorkflowMigration.plan(row.snapshot, to: target))
                continue
            }
            let plan: WorkflowMigration.Plan = try await transaction { c in
                let row = try await self.lockItem(c, id: id)
                let plan = WorkflowMigration.plan(row.snapshot, to: target)
                guard let toState = plan.toState, !row.final else { return plan }
                var next = row.snapshot
                next.version += 1
                next.workflowVersion = version
                next.state = toState
                let draft = EventDraft(type: .migration, from: row.snapshot.state, to: toState, actor: actor.handle, at: now,
                                       data: ["from_version": String(row.snapshot.workflowVersion), "to_version": String(version)])
                let chained = ChainedEvent(item: id, version: next.version, draft: draft)
                let hash = chained.hash(previous: row.lastHash)
                try await self.write(c, next: next, definition: target, chained: chained, prev: row.lastHash, hash: hash,
                                     change: .none, key: nil, command: "migrate \(id)")
                try await c.query("UPDATE items SET workflow_version = \(version) WHERE id = \(id)", logger: self.queryLogger)
                return plan
            }
            plans.append(plan)
            if plan.toState != nil { eventsWritten.signal() }
        }
        return plans
    }
}
