import DocketClient
import DocketCore
import DocketServer
import DocketTestSupport
import DocketWire
import Foundation
import NIOConcurrencyHelpers
import PostgresNIO
import Testing

/// A workflow with short timers for scheduler tests.
let timedYAML = """
    workflow: timed
    version: 1
    title: Timed
    prefix: TM
    create: [secretariat, admin]
    initial: waiting
    states:
      waiting:
        due: 2h
        remind: [1h]
        on:
          done: { to: closed, by: [secretariat, admin] }
          lapse: { to: lapsed, after: 3h }
      closed: { final: true }
      lapsed: { final: true }
    """

@Suite("Time and events", .timeLimit(.minutes(10)))
struct TimeAndEventsTests {
    static let t0 = Date(timeIntervalSince1970: 1_795_000_000)

    @Test("due, reminders and timed transitions fire at the right instants, as system")
    func scheduler() async throws {
        let clock = ManualClock(Self.t0)
        try await TestServer.with(clock: clock) { server in
            try await server.withClient { admin in
                try await admin.call("WORKFLOW.LOAD", timedYAML)
                let item = try await admin.call("ITEM.CREATE", "timed", "Regional transport compact")
                let id = try #require(item["id"]?.stringValue)
                #expect(item["due_at"]?.stringValue == Timestamp.format(Self.t0.addingTimeInterval(7200)))
                clock.advance(by: 3599)
                #expect(try await server.scheduler.tick().isEmpty)
                clock.advance(by: 1)
                let reminder = try await server.scheduler.tick()
                #expect(reminder.map(\.kind) == ["reminder"] && reminder.first?.event?.type == "reminder")
                clock.advance(by: 7199)
                #expect(try await server.scheduler.tick().isEmpty)
                clock.advance(by: 1)
                let lapsed = try await server.scheduler.tick()
                #expect(lapsed.first?.event?.to == "lapsed" && lapsed.first?.event?.actor == "system")
                let history = try await admin.call("ITEM.HISTORY", id).arrayValue ?? []
                #expect(history.compactMap { $0["type"]?.stringValue } == ["created", "reminder", "transition"])
                #expect(history.last?["actor"]?.stringValue == "system")
                // A person cannot fire the timed transition.
                let other = try await admin.call("ITEM.CREATE", "timed", "Second")
                let refused = await #expect(throws: ServerError.self) { try await admin.call("ITEM.FIRE", other["id"]?.stringValue ?? "", "lapse") }
                #expect(refused?.code == "DENIED" && refused?.message.contains("only the scheduler") == true)
            }
        }
    }

    @Test("two instances on one database fire a burst of due timers exactly once each; a timer due during downtime fires at the next start")
    func exactlyOnce() async throws {
        let clock = ManualClock(Self.t0)
        try await TestServer.withServers(count: 2, clock: clock) { servers in
            let ids: [String] = try await servers[0].withClient { admin in
                try await admin.call("WORKFLOW.LOAD", timedYAML)
                var ids: [String] = []
                for i in 0..<40 { ids.append(try await admin.call("ITEM.CREATE", "timed", "Item \(i)")["id"]?.stringValue ?? "") }
                return ids
            }
            // Every instance was "down" while the timers came due; now both start at once.
            clock.advance(by: 4 * 3600)
            async let a = servers[0].scheduler.tick()
            async let b = servers[1].scheduler.tick()
            let fired = try await a + b
            #expect(fired.count == 80, "40 reminders and 40 lapses")
            #expect(Set(fired.map { "\($0.item) \($0.kind)" }).count == 80, "no timer fired twice")
            for id in ids.prefix(5) {
                let history = try await servers[1].withClient { c in try await c.call("ITEM.HISTORY", id).arrayValue ?? [] }
                #expect(history.compactMap { $0["type"]?.stringValue } == ["created", "reminder", "transition"])
            }
            #expect(try await servers[0].scheduler.tick().isEmpty)
        }
    }

    @Test("a due timer whose item a command is writing is skipped, not deadlocked, and fires at the next tick")
    func timerSkipsAnItemBeingWritten() async throws {
        let clock = ManualClock(Self.t0)
        try await TestServer.with(clock: clock) { server in
            let id: String = try await server.withClient { admin in
                try await admin.call("WORKFLOW.LOAD", timedYAML)
                return try #require(try await admin.call("ITEM.CREATE", "timed", "Regional transport compact")["id"]?.stringValue)
            }
            clock.advance(by: 3600)
            // A command's write, by hand, as the store orders it: the item's row first, then the
            // item's timers (a transition replaces them).
            let logger = TestDatabase.logger
            let command = try await PostgresConnection.connect(configuration: try server.url.connectionConfiguration(), id: 1, logger: logger)
            do {
                try await command.query("BEGIN", logger: logger)
                try await command.query("SELECT 1 FROM items WHERE id = \(id) FOR UPDATE", logger: logger)
                // The tick ends while the item is held: it neither waits for the item nor keeps
                // its timer locked.
                let done = NIOLockedValueBox(false)
                let tick = Task {
                    defer { done.withLockedValue { $0 = true } }
                    return try await server.scheduler.tick()
                }
                do {
                    let until = ContinuousClock.now + .seconds(20)
                    while !done.withLockedValue({ $0 }), ContinuousClock.now < until { try await Task.sleep(for: .milliseconds(10)) }
                    #expect(done.withLockedValue { $0 }, "the tick waited for the item a command holds")
                    try await command.query("DELETE FROM timers WHERE item_id = \(id)", logger: logger)
                    #expect(try await tick.value.isEmpty, "the reminder of an item being written waits for a later tick")
                } catch {
                    // Not left running past the server.
                    tick.cancel()
                    _ = try? await tick.value
                    throw error
                }
                try await command.query("ROLLBACK", logger: logger)
            } catch {
                try? await command.close()
                throw error
            }
            try await command.close()
            let fired = try await server.scheduler.tick()
            #expect(fired.map(\.item) == [id] && fired.first?.event?.type == "reminder")
        }
    }

    @Test("a watcher on one instance receives, in order, events fired through another (RESP3 push and RESP2 pubsub form)")
    func watchAcrossInstances() async throws {
        try await TestServer.withServers(count: 2) { servers in
            let id: String = try await servers[1].withClient { admin in
                try await admin.call("WORKFLOW.LOAD", timedYAML)
                return try await admin.call("ITEM.CREATE", "timed", "Watched")["id"]?.stringValue ?? ""
            }
            for resp3 in [true, false] {
                try await servers[0].withClient(resp3: resp3) { watcher in
                    let reply = try await watcher.call("WATCH", "ITEM", id)
                    #expect(reply.arrayValue?.first?.stringValue == "watch")
                    try await servers[1].withClient { writer in
                        for n in 1...5 { try await writer.call("ITEM.COMMENT", id, "note \(n) \(resp3)") }
                    }
                    // Events committed just before WATCH may still arrive first: keep this round's notes.
                    var received: [RESPValue] = []
                    for await push in watcher.pushes {
                        guard push.arrayValue?.last?["comment"]?.stringValue?.hasSuffix(" \(resp3)") == true else { continue }
                        received.append(push)
                        if received.count == 5 { break }
                    }
                    let frames = received.compactMap(\.arrayValue)
                    #expect(frames.allSatisfy { $0.first?.stringValue == (resp3 ? "event" : "message") && $0[1].stringValue == "item:\(id)" })
                    let events = frames.map { $0[2] }
                    #expect(events.compactMap { $0["comment"]?.stringValue } == (1...5).map { "note \($0) \(resp3)" })
                    let seqs = events.compactMap { $0["seq"]?.intValue }
                    #expect(seqs == seqs.sorted() && seqs.count == 5)
                    if !resp3 {
                        // Only PING, QUIT and UNWATCH while watching in RESP2.
                        let blocked = try await watcher.send(["ITEM.GET", id])
                        #expect(blocked.isError)
                    }
                    #expect(try await watcher.call("UNWATCH").stringValue == "OK")
                }
            }
        }
    }

    @Test("a reader resuming with EVENTS.READ AFTER misses nothing and sees nothing twice under concurrent writers")
    func catchUp() async throws {
        try await TestServer.with { server in
            _ = try await server.withClient { admin in try await admin.call("WORKFLOW.LOAD", timedYAML) }
            let ids: [String] = try await server.withClient { admin in
                var ids: [String] = []
                for i in 0..<8 { ids.append(try await admin.call("ITEM.CREATE", "timed", "Busy \(i)")["id"]?.stringValue ?? "") }
                return ids
            }
            let sec = try await server.store.actor("admin")
            let finished = Flag()
            let writers = Task {
                defer { finished.set() }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for id in ids {
                        group.addTask {
                            for n in 0..<40 { _ = try await server.store.apply(.comment("c\(n)"), to: id, actor: sec, now: Date()) }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            let (seen, keys): ([Int64], [String]) = try await server.withClient { reader in
                var seen: [Int64] = []
                var keys: [String] = []
                var last: Int64 = 0
                var quiet = 0
                while quiet < 20 {
                    let batch = try await reader.call("EVENTS.READ", "AFTER", String(last), "COUNT", "37").arrayValue ?? []
                    for e in batch {
                        seen.append(Int64(e["seq"]?.intValue ?? -1))
                        keys.append("\(e["item"]?.stringValue ?? "") \(e["version"]?.intValue ?? 0)")
                    }
                    last = seen.last ?? last
                    if batch.isEmpty, finished.isSet { quiet += 1; try await Task.sleep(for: .milliseconds(20)) }
                }
                return (seen, keys)
            }
            try await writers.value
            #expect(seen == Array(1...Int64(seen.count)), "consecutive, in order, no duplicates")
            #expect(Set(keys).count == keys.count)
            #expect(keys.count == 8 + 8 * 40, "every event of the table was read")
        }
    }

    @Test("REPORT.STATUS ASOF equals the board recorded at those instants")
    func asOf() async throws {
        let clock = ManualClock(Self.t0)
        try await TestServer.with(clock: clock) { server in
            try await server.withClient { admin in
                try await EurasiaSection.setUp(admin)
                try await admin.call("WORKFLOW.LOAD", timedYAML)
                var recorded: [(Date, [String])] = []
                func board() async throws -> [String] {
                    (try await admin.call("REPORT.STATUS").arrayValue ?? []).map { r in
                        "\(r["workflow"]?.stringValue ?? "") \(r["state"]?.stringValue ?? "") \(r["theme"]?.stringValue ?? "-") \(r["items"]?.intValue ?? 0) \(r["overdue"]?.intValue ?? 0)"
                    }.sorted()
                }
                var ids: [String] = []
                for step in 0..<6 {
                    ids.append(try await admin.call("ITEM.CREATE", "timed", "Step \(step)", "THEME", step % 2 == 0 ? "sustainability" : "gender-equity")["id"]?.stringValue ?? "")
                    if step >= 3 { try await admin.call("ITEM.FIRE", ids[step - 3], "done") }
                    clock.advance(by: 3000)
                    recorded.append((clock.now(), try await board()))
                    clock.advance(by: 1)
                }
                for (instant, expected) in recorded {
                    let past = (try await admin.call("REPORT.STATUS", "ASOF", Timestamp.format(instant)).arrayValue ?? []).map { r in
                        "\(r["workflow"]?.stringValue ?? "") \(r["state"]?.stringValue ?? "") \(r["theme"]?.stringValue ?? "-") \(r["items"]?.intValue ?? 0) \(r["overdue"]?.intValue ?? 0)"
                    }.sorted()
                    #expect(past == expected, "as of \(Timestamp.format(instant))")
                }
                #expect(recorded.contains { $0.1.contains { $0.hasSuffix(" 1") || $0.hasSuffix(" 2") } }, "some item was overdue at some instant")
            }
        }
    }

    @Test("migration: the dry run names stranded items; the real run moves the rest and leaves the stranded untouched")
    func migration() async throws {
        try await TestServer.with { server in
            try await server.withClient { admin in
                let v1 = """
                    workflow: charter
                    version: 1
                    title: Charter
                    prefix: CH
                    create: [admin]
                    initial: draft
                    states:
                      draft:
                        due: 1d
                        on:
                          send: { to: consult, by: [admin] }
                          park: { to: parked, by: [admin] }
                      consult:
                        due: 1d
                        on:
                          sign: { to: signed, by: [admin] }
                      parked:
                        due: 1d
                        on:
                          resume: { to: draft, by: [admin] }
                      signed: { final: true }
                    """
                try await admin.call("WORKFLOW.LOAD", v1)
                let moving = try await admin.call("ITEM.CREATE", "charter", "Will be renamed")["id"]?.stringValue ?? ""
                try await admin.call("ITEM.FIRE", moving, "send")
                let staying = try await admin.call("ITEM.CREATE", "charter", "Stays in draft")["id"]?.stringValue ?? ""
                let stranded = try await admin.call("ITEM.CREATE", "charter", "Parked")["id"]?.stringValue ?? ""
                try await admin.call("ITEM.FIRE", stranded, "park")
                let v2 = v1.replacingOccurrences(of: "version: 1", with: "version: 2")
                    .replacingOccurrences(of: "  consult:\n    due: 1d", with: "  consultation:\n    replaces: [consult]\n    due: 1d")
                    .replacingOccurrences(of: "to: consult,", with: "to: consultation,")
                    .replacingOccurrences(of: "      park: { to: parked, by: [admin] }\n", with: "")
                    .replacingOccurrences(of: "  parked:\n    due: 1d\n    on:\n      resume: { to: draft, by: [admin] }\n", with: "")
                let loaded = try await admin.call("WORKFLOW.LOAD", v2)
                #expect(loaded["version"]?.intValue == 2)
                let dry = try await admin.call("WORKFLOW.MIGRATE", "charter", "2", "DRYRUN").arrayValue ?? []
                let plan = Dictionary(uniqueKeysWithValues: dry.map { ($0["item"]?.stringValue ?? "", $0) })
                #expect(plan[moving]?["to_state"]?.stringValue == "consultation" && plan[moving]?["ok"]?.boolValue == true)
                #expect(plan[staying]?["to_state"]?.stringValue == "draft")
                #expect(plan[stranded]?["ok"]?.boolValue == false)
                #expect(plan[stranded]?["problem"]?.stringValue?.contains("state \"parked\" does not exist") == true)
                #expect(try await admin.call("ITEM.GET", moving)["workflow_version"]?.intValue == 1, "a dry run changes nothing")
                _ = try await admin.call("WORKFLOW.MIGRATE", "charter", "2")
                let moved = try await admin.call("ITEM.GET", moving)
                #expect(moved["state"]?.stringValue == "consultation" && moved["workflow_version"]?.intValue == 2)
                #expect(moved["transitions"]?.arrayValue?.compactMap(\.stringValue) == ["sign"])
                let left = try await admin.call("ITEM.GET", stranded)
                #expect(left["state"]?.stringValue == "parked" && left["workflow_version"]?.intValue == 1)
                let history = try await admin.call("ITEM.HISTORY", moving).arrayValue ?? []
                #expect(history.last?["type"]?.stringValue == "migration")
                #expect(try await admin.call("AUDIT.VERIFY")["ok"]?.boolValue == true)
            }
        }
    }
}

extension RESPValue {
    var isError: Bool { if case .error = self { true } else { false } }
}

final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
