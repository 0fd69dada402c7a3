import DocketCore
import DocketStore
import DocketTestSupport
import Foundation
import PostgresNIO
import Testing

@Suite("Store on PostgreSQL", .timeLimit(.minutes(10)))
struct StoreTests {
    @Test("a policy paper from draft to adoption, every event chained")
    func paperLifecycle() async throws {
        try await TestDatabase.withStore { store, _ in
            try await World.build(store)
            let ana = try await store.actor("ana"), dilnoza = try await store.actor("dilnoza"), sec = try await store.actor("sec")
            var now = World.t0
            func tick() -> Date { now = now.addingTimeInterval(60); return now }
            let created = try await store.create(workflow: "policy-paper", NewItem(title: "Green procurement in member cities", theme: "sustainability", group: "sustainability-wg"), actor: ana, now: tick())
            let id = created.item.id
            #expect(id == "PP-1")
            #expect(created.item.state == "drafting" && created.item.version == 1)

            // Submitting without summary and body is refused with both listed.
            do {
                _ = try await store.apply(.fire(transition: "submit"), to: id, actor: ana, now: tick())
                Issue.record("submit should be refused")
            } catch let StoreError.denied(decision) {
                #expect(Set(decision.failed.map(\.name)) == ["require:summary", "require:body"])
            }
            _ = try await store.apply(.setField(name: "summary", value: "Buying green across the section"), to: id, actor: ana, now: tick())
            _ = try await store.apply(.revise(text: "# Green procurement\n\nFirst draft.\n", note: "first"), to: id, actor: ana, now: tick())
            let submitted = try await store.apply(.fire(transition: "submit", comment: "ready"), to: id, actor: ana, now: tick())
            #expect(submitted.item.state == "peer-review" && submitted.event.version == 4)
            _ = try await store.apply(.assign(["bruno", "chen"]), to: id, actor: dilnoza, now: tick())
            await #expect(throws: StoreError.self) { try await store.apply(.vote(.approve), to: id, actor: ana, now: tick()) }
            for reviewer in ["bruno", "chen"] {
                _ = try await store.apply(.vote(.approve, comment: "good"), to: id, actor: try await store.actor(reviewer), now: tick())
            }
            _ = try await store.apply(.fire(transition: "accept"), to: id, actor: dilnoza, now: tick())
            _ = try await store.apply(.fire(transition: "open-endorsement"), to: id, actor: sec, now: tick())
            for member in ["almaty", "kazan", "bishkek"] {
                _ = try await store.apply(.endorse(member: member), to: id, actor: try await store.actor("rep-\(member)"), now: tick())
            }
            let adopted = try await store.apply(.fire(transition: "adopt"), to: id, actor: sec, now: tick())
            #expect(adopted.item.state == "adopted")
            let history = try await store.history(id, actor: sec)
            #expect(history.map(\.version) == Array(1...history.count))
            #expect(history.map(\.type) == ["created", "field", "revision", "transition", "assignment", "vote", "vote", "transition", "transition", "endorsement", "endorsement", "endorsement", "transition"])
            let report = try await store.verify()
            #expect(report.ok && report.items == 1 && report.events == history.count)
        }
    }

    @Test("16 concurrent tasks with IFVERSION: one success per version, the rest conflict, history gapless")
    func concurrentIfVersion() async throws {
        try await TestDatabase.withStore { store, _ in
            try await World.build(store)
            let sec = try await store.actor("sec")
            let id = try await store.create(workflow: "loop", NewItem(title: "Loop"), actor: sec, now: World.t0).item.id
            let target = 60
            let results = try await withThrowingTaskGroup(of: (wins: [Int], conflicts: Int).self) { group in
                for _ in 0..<16 {
                    group.addTask {
                        var wins: [Int] = [], conflicts = 0
                        while true {
                            let current = try await store.item(id, actor: sec).version
                            if current > target { return (wins, conflicts) }
                            do {
                                let applied = try await store.apply(.fire(transition: "touch"), to: id, actor: sec, ifVersion: current, now: World.t0)
                                wins.append(applied.event.version)
                            } catch StoreError.conflict {
                                conflicts += 1
                            }
                        }
                    }
                }
                var all: [(wins: [Int], conflicts: Int)] = []
                for try await r in group { all.append(r) }
                return all
            }
            let wins = results.flatMap(\.wins).sorted()
            #expect(wins == Array(2...(target + 1)), "each version won exactly once")
            #expect(results.map(\.conflicts).reduce(0, +) > 0, "concurrent writers must have conflicted")
            let history = try await store.history(id, actor: sec)
            #expect(history.map(\.version) == Array(1...(target + 1)))
            #expect(try await store.verify(item: id).ok)
        }
    }

    @Test("a crowd on one item: commands that keep losing the race take the row lock and all succeed", arguments: [0, 1])
    func crowdTakesTheLock(optimisticAttempts: Int) async throws {
        try await TestDatabase.withDatabase { url in
            try await DatabaseLocation.withClient(url: url, maximumConnections: 24, logger: TestDatabase.logger) { client in
                let store = Store(client: client, logger: TestDatabase.logger, optimisticAttempts: optimisticAttempts)
                try await World.build(store)
                let sec = try await store.actor("sec")
                let id = try await store.create(workflow: "loop", NewItem(title: "Loop"), actor: sec, now: World.t0).item.id
                let (tasks, each) = (16, 12)
                // Every fire is answered with its own version; none is turned away.
                let versions = try await withThrowingTaskGroup(of: [Int].self) { group in
                    for t in 0..<tasks {
                        group.addTask {
                            var mine: [Int] = []
                            for i in 0..<each {
                                // Every third fire is keyed and sent twice: one event, one answer.
                                let key = i % 3 == 0 ? "t\(t)-\(i)" : nil
                                let applied = try await store.apply(.fire(transition: "touch"), to: id, actor: sec, key: key, now: World.t0)
                                if let key {
                                    let again = try await store.apply(.fire(transition: "touch"), to: id, actor: sec, key: key, now: World.t0)
                                    #expect(again.replayed && again.event.version == applied.event.version)
                                }
                                mine.append(applied.event.version)
                            }
                            return mine
                        }
                    }
                    var all: [Int] = []
                    for try await v in group { all += v }
                    return all
                }
                #expect(versions.sorted() == Array(2...(tasks * each + 1)), "one version per acknowledged fire")
                if optimisticAttempts == 0 {
                    #expect(store.contendedWrites == versions.count, "every write that was not a replay took the lock")
                } else {
                    #expect(store.contendedWrites > 0, "16 tasks on one item must have lost one race in a row")
                }
                let history = try await store.history(id, actor: sec)
                #expect(history.map(\.version) == Array(1...(tasks * each + 1)))
                #expect(try await store.verify(item: id).ok)
                // IFVERSION still decides on the row it reads under the lock.
                await #expect(throws: StoreError.conflict(item: id, current: tasks * each + 1, expected: 1)) {
                    try await store.apply(.fire(transition: "touch"), to: id, actor: sec, ifVersion: 1, now: World.t0)
                }
            }
        }
    }

    @Test("waiting for an item's lock ends before the store's timeout: UNAVAILABLE, nothing written")
    func lockWaitEnds() async throws {
        try await TestDatabase.withDatabase { url in
            try await DatabaseLocation.withClient(url: url, maximumConnections: 4, logger: TestDatabase.logger) { client in
                // Every command takes the lock at once, and waits for it at most 3 s (the store's
                // own timeout, 4 s, would answer "no answer from PostgreSQL" instead).
                let store = Store(client: client, logger: TestDatabase.logger, timeout: .seconds(4), optimisticAttempts: 0)
                try await World.build(store)
                let sec = try await store.actor("sec")
                let id = try await store.create(workflow: "loop", NewItem(title: "Loop"), actor: sec, now: World.t0).item.id
                // Another session holds the item's row lock for 5 s.
                let holder = Task {
                    try await client.withConnection { c in
                        try await c.query("BEGIN", logger: TestDatabase.logger)
                        try await c.query("SELECT 1 FROM items WHERE id = \(id) FOR UPDATE", logger: TestDatabase.logger)
                        try await c.query("SELECT pg_sleep(5)", logger: TestDatabase.logger)
                        try await c.query("ROLLBACK", logger: TestDatabase.logger)
                    }
                }
                try await Task.sleep(for: .milliseconds(300))
                do {
                    _ = try await store.apply(.fire(transition: "touch"), to: id, actor: sec, now: World.t0)
                    Issue.record("the fire went through a held lock")
                } catch let StoreError.unavailable(message) {
                    #expect(message.contains("lock timeout") && message.contains("nothing was written"), "\(message)")
                }
                try await holder.value
                #expect(try await store.item(id, actor: sec).version == 1)
                #expect(try await store.apply(.fire(transition: "touch"), to: id, actor: sec, now: World.t0).event.version == 2)
            }
        }
    }

    @Test("an idempotency key repeats the first answer and appends nothing")
    func idempotency() async throws {
        try await TestDatabase.withStore { store, _ in
            try await World.build(store)
            let sec = try await store.actor("sec")
            let id = try await store.create(workflow: "loop", NewItem(title: "Loop"), actor: sec, key: "create-1", now: World.t0).item.id
            let again = try await store.create(workflow: "loop", NewItem(title: "Loop"), actor: sec, key: "create-1", now: World.t0)
            #expect(again.item.id == id && again.replayed)
            let first = try await store.apply(.fire(transition: "touch"), to: id, actor: sec, key: "k1", now: World.t0)
            // Concurrent repeats of the same key all get the first answer.
            let repeats = try await withThrowingTaskGroup(of: Store.Applied.self) { group in
                for _ in 0..<8 { group.addTask { try await store.apply(.fire(transition: "touch"), to: id, actor: sec, key: "k1", now: World.t0) } }
                var out: [Store.Applied] = []
                for try await r in group { out.append(r) }
                return out
            }
            #expect(repeats.allSatisfy { $0.replayed && $0.event.version == first.event.version && $0.event.hash == first.event.hash })
            #expect(try await store.history(id, actor: sec).count == 2)
            await #expect(throws: StoreError.self) {
                try await store.apply(.fire(transition: "close"), to: id, actor: sec, key: "k1", now: World.t0)
            }
            // Two new keys fired at once from many tasks: one event each.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<12 {
                    group.addTask { _ = try await store.apply(.fire(transition: "touch"), to: id, actor: sec, key: "burst-\(i % 2)", now: World.t0) }
                }
                try await group.waitForAll()
            }
            #expect(try await store.history(id, actor: sec).count == 4)
        }
    }

    @Test("an event edited behind the service's back is detected")
    func tamperDetected() async throws {
        try await TestDatabase.withStore { store, _ in
            try await World.build(store)
            let sec = try await store.actor("sec")
            let id = try await store.create(workflow: "loop", NewItem(title: "Loop"), actor: sec, now: World.t0).item.id
            for _ in 0..<3 { _ = try await store.apply(.fire(transition: "touch", comment: "ok"), to: id, actor: sec, now: World.t0) }
            #expect(try await store.verify().ok)
            // The trigger refuses edits...
            await #expect(throws: (any Error).self) {
                try await store.client.query("UPDATE events SET comment = 'forged' WHERE item_id = \(id) AND version = 3")
            }
            await #expect(throws: (any Error).self) {
                try await store.client.query("DELETE FROM events WHERE item_id = \(id)")
            }
            // ...until a superuser disables it.
            try await store.client.withConnection { c in
                try await c.query("ALTER TABLE events DISABLE TRIGGER events_no_update", logger: TestDatabase.logger)
                try await c.query("UPDATE events SET comment = 'forged' WHERE item_id = \(id) AND version = 3", logger: TestDatabase.logger)
                try await c.query("ALTER TABLE events ENABLE TRIGGER events_no_update", logger: TestDatabase.logger)
            }
            let report = try await store.verify()
            #expect(!report.ok)
            #expect(report.firstBad == AuditChain.Break(item: id, version: 3, reason: "hash does not match the event's content"))
        }
    }

    @Test("two processes migrating at once apply each migration once")
    func concurrentMigrations() async throws {
        try await TestDatabase.withDatabase(migrate: false) { url in
            let migrator = try Migrator(directory: TestDatabase.packageRoot.appendingPathComponent("sql"))
            let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        try await DatabaseLocation.withClient(url: url, maximumConnections: 1, logger: TestDatabase.logger) { client in
                            try await migrator.migrate(client, logger: TestDatabase.logger)
                        }
                    }
                }
                var all: [[Int]] = []
                for try await a in group { all.append(a) }
                return all
            }
            #expect(applied.flatMap { $0 }.sorted() == migrator.migrations.map(\.version), "each migration applied by exactly one process")
            try await DatabaseLocation.withClient(url: url, maximumConnections: 1, logger: TestDatabase.logger) { client in
                let rows = try await client.query("SELECT count(*)::int, count(DISTINCT version)::int FROM schema_migrations")
                for try await (total, distinct) in rows.decode((Int, Int).self) {
                    #expect(total == migrator.migrations.count && distinct == total)
                }
                // An edited migration is refused.
                var edited = migrator.migrations
                edited[0].checksum = "0000"
                await #expect(throws: StoreError.self) { try await Migrator(migrations: edited).migrate(client, logger: TestDatabase.logger) }
            }
        }
    }

    @Test("docket_micros and docket_ts are inlined into the queries that use them, and round-trip microseconds")
    func timeHelpersInline() async throws {
        try await TestDatabase.withStore { store, _ in
            // A helper PostgreSQL cannot inline runs as a function call of its own per use:
            // three per item row read. EXPLAIN VERBOSE shows the expression when it is inlined.
            var plan: [String] = []
            let rows = try await store.client.query(
                "EXPLAIN VERBOSE SELECT docket_micros(created_at), docket_micros(due_at), docket_ts(version::int8) FROM items WHERE id = 'PP-1'",
                logger: TestDatabase.logger)
            for try await line in rows.decode(String.self) { plan.append(line) }
            #expect(plan.contains { $0.contains("Output:") }, "\(plan)")
            #expect(!plan.joined().contains("docket_micros") && !plan.joined().contains("docket_ts"), "\(plan)")
            for micros: Int64 in [0, 1, -1, 1_795_000_000_123_456, -2_208_988_800_000_001, 9_000_000_000_000_000_000 / 1000] {
                let back = try await store.client.query("SELECT docket_micros(docket_ts(\(micros)))", logger: TestDatabase.logger)
                for try await value in back.decode(Int64.self) { #expect(value == micros) }
            }
        }
    }

    @Test("a changed definition becomes a new version; running items keep theirs")
    func workflowVersions() async throws {
        try await TestDatabase.withStore { store, _ in
            try await World.build(store)
            let sec = try await store.actor("sec")
            let again = try await store.loadWorkflow(yaml: World.loopYAML)
            #expect(!again.changed && again.version == 1)
            let old = try await store.create(workflow: "loop", NewItem(title: "Old"), actor: sec, now: World.t0).item
            let v2 = try await store.loadWorkflow(yaml: World.loopYAML.replacingOccurrences(of: "due: 7d", with: "due: 3d"))
            #expect(v2.changed && v2.version == 2)
            let new = try await store.create(workflow: "loop", NewItem(title: "New"), actor: sec, now: World.t0).item
            #expect(new.workflowVersion == 2 && new.dueAt == World.t0.adding(WorkflowDuration("3d")!))
            #expect(try await store.item(old.id, actor: sec).workflowVersion == 1)
            await #expect(throws: StoreError.self) { try await store.loadWorkflow(yaml: "workflow: broken\nstates: {}\n") }
        }
    }

    @Test("drafts are invisible outside their group")
    func visibility() async throws {
        try await TestDatabase.withStore { store, _ in
            try await World.build(store)
            let ana = try await store.actor("ana"), omar = try await store.actor("omar")
            let id = try await store.create(workflow: "policy-paper", NewItem(title: "Draft", group: "sustainability-wg"), actor: ana, now: World.t0).item.id
            await #expect(throws: StoreError.notFound("item \(id)")) { try await store.item(id, actor: omar) }
            await #expect(throws: StoreError.notFound("item \(id)")) { try await store.history(id, actor: omar) }
            await #expect(throws: StoreError.notFound("item \(id)")) { try await store.apply(.comment("hello"), to: id, actor: omar, now: World.t0) }
            #expect(try await store.item(id, actor: try await store.actor("bruno")).id == id)
        }
    }

    @Test("the global sequence numbers every committed event once, in commit order")
    func sequencing() async throws {
        try await TestDatabase.withStore { store, _ in
            try await World.build(store)
            let sec = try await store.actor("sec")
            let id = try await store.create(workflow: "loop", NewItem(title: "Loop"), actor: sec, now: World.t0).item.id
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<8 {
                    group.addTask { for _ in 0..<10 { _ = try await store.apply(.fire(transition: "touch"), to: id, actor: sec, now: World.t0) } }
                }
                try await group.waitForAll()
            }
            // The sequencer numbers only transactions older than every running one in the
            // cluster, and other tests' databases share this cluster: an empty batch can mean
            // "not yet", so keep going until all are numbered (or a generous deadline).
            var total = 0
            let deadline = ContinuousClock.now + .seconds(60)
            while total < 81, ContinuousClock.now < deadline {
                let n = try await store.numberEvents(limit: 25).numbered
                if n == 0 { try await Task.sleep(for: .milliseconds(20)) }
                total += n
            }
            #expect(total == 81)
            let idle = try await store.numberEvents(limit: 25)
            #expect(idle.numbered == 0 && idle.through == 81, "an idle round says the last number handed out")
            // Another instance's round holds the cursor: this one skips, and says so.
            try await store.client.withTransaction(logger: TestDatabase.logger) { connection in
                try await connection.query("SELECT 1 FROM event_sequencer WHERE id = 1 FOR UPDATE", logger: TestDatabase.logger)
                let skipped = try await store.numberEvents(limit: 25)
                #expect(skipped.numbered == 0 && skipped.through == nil)
            }
            let events = try await store.readEvents(after: 0, count: 1000)
            #expect(events.compactMap(\.seq) == (1...81).map(Int64.init))
            #expect(Set(events.map(\.version)).count == 81)
            #expect(try await store.readEvents(after: 80, count: 10).map(\.seq) == [81])

            // The sequencer commits without waiting for the WAL flush, so a crash may take its
            // latest numberings away (never one older than an acknowledged command: WAL is
            // flushed in order). Made again, in other batch sizes, they give every event the
            // number it had.
            func numbering() async throws -> [Int64: Int64] {
                var out: [Int64: Int64] = [:]
                for try await (seq, event) in try await store.client.query("SELECT seq, event_id FROM event_log", logger: TestDatabase.logger)
                    .decode((Int64, Int64).self) { out[seq] = event }
                return out
            }
            let before = try await numbering()
            #expect(before.count == 81)
            try await store.client.query("""
                WITH kept AS (SELECT e.xid, e.id, l.seq FROM event_log l JOIN events e ON e.id = l.event_id WHERE l.seq = 37)
                UPDATE event_sequencer SET last_xid = kept.xid, last_id = kept.id, last_seq = kept.seq FROM kept WHERE event_sequencer.id = 1
                """, logger: TestDatabase.logger)
            try await store.client.query("DELETE FROM event_log WHERE seq > 37", logger: TestDatabase.logger)
            var again = 0
            for limit in [5, 11, 100] { again += try await store.numberEvents(limit: limit).numbered }
            #expect(again == 44)
            #expect(try await numbering() == before, "a numbering made again gives each event its old number")
        }
    }

    @Test("unknown ids and a database that is not there give clear errors")
    func errors() async throws {
        try await TestDatabase.withStore { store, _ in
            try await World.build(store)
            let sec = try await store.actor("sec")
            await #expect(throws: StoreError.notFound("item PP-999")) { try await store.item("PP-999", actor: sec) }
            await #expect(throws: StoreError.notFound("user nobody")) { try await store.actor("nobody") }
            await #expect(throws: StoreError.notFound("workflow nope")) { try await store.definition("nope") }
            await #expect(throws: StoreError.notFound("theme moon")) {
                try await store.create(workflow: "loop", NewItem(title: "x", theme: "moon"), actor: sec, now: World.t0)
            }
        }
        let gone = try DatabaseURL("postgres://docket@/docket?host=/nonexistent-docket-socket&port=5432")
        let result: Result<Void, any Error> = await DatabaseLocation.withClientResult(url: gone)
        guard case let .failure(error) = result else { Issue.record("expected a failure"); return }
        #expect({ if case StoreError.unavailable = error { true } else { false } }(), "\(error)")
    }
}

extension DatabaseLocation {
    static func withClientResult(url: DatabaseURL) async -> Result<Void, any Error> {
        do {
            try await withClient(url: url, maximumConnections: 1, logger: TestDatabase.logger) { client in
                _ = try await Store(client: client, logger: TestDatabase.logger, timeout: .seconds(2)).actor("sec")
            }
            return .success(())
        } catch {
            return .failure(error)
        }
    }
}
