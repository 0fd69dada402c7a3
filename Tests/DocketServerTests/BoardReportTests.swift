import DocketClient
import DocketCore
import DocketStore
import DocketTestSupport
import DocketWire
import Foundation
import PostgresNIO
import Testing

/// REPORT.STATUS reads a board kept as items move, and REPORT.WAITING narrows the items down in
/// SQL: both must still say exactly what the items themselves say, to every user. The
/// reference here is ITEM.LIST, which checks visibility item by item.
@Suite("Board and waiting reports against the items themselves", .timeLimit(.minutes(10)))
struct BoardReportTests {
    static let viewers = ["admin", "sec", "ana", "bruno", "dilnoza", "omar", "rep-almaty", "lena"]

    /// A seeded walk of the Eurasia section's papers and projects through their workflows:
    /// creates, revisions, submissions, reviews, send-backs, withdrawals, over 20 days of a
    /// manual clock. Refused steps (a transition not open, a missing quorum) are part of it.
    static func walk(_ server: TestServer, clock: ManualClock, steps: Int, seed: UInt64) async throws {
        var random = ConcurrencyTests.Generator(seed: seed)
        var ids: [String] = []
        let themes = ["sustainability", "gender-equity", "local-innovation"]
        for step in 0..<steps {
            if step % (steps / 2) == steps / 2 - 1 { clock.advance(by: 10 * 86_400) }
            let id = ids.isEmpty ? "PP-1" : ids[Int(random.next() % UInt64(ids.count))]
            let theme = themes[Int(random.next() % 3)]
            let moves: [(String, [String])] = [
                ("ana", ["ITEM.CREATE", "policy-paper", "Paper \(step)", "THEME", theme, "GROUP", "sustainability-wg", "FIELD", "summary", "s"]),
                ("ana", ["ITEM.CREATE", "thematic-project", "Project \(step)", "THEME", theme, "GROUP", "sustainability-wg"]),
                ("ana", ["ITEM.CREATE", "thematic-project", "Project \(step) with no theme", "GROUP", "sustainability-wg"]),
                ("sec", ["ITEM.CREATE", "policy-paper", "Paper \(step) with no group", "FIELD", "summary", "s"]),
                ("omar", ["ITEM.CREATE", "policy-paper", "Paper \(step)", "THEME", "gender-equity", "GROUP", "gender-equity-wg", "FIELD", "summary", "s"]),
                ("ana", ["ITEM.REVISE", id, "Text \(step).\n"]),
                ("ana", ["ITEM.FIRE", id, "submit"]),
                ("ana", ["ITEM.FIRE", id, "submit"]),
                ("dilnoza", ["REVIEW.ASSIGN", id, "bruno", "chen"]),
                ("dilnoza", ["REVIEW.ASSIGN", id, "bruno"]),
                ("bruno", ["REVIEW.VOTE", id, "APPROVE"]),
                ("chen", ["REVIEW.VOTE", id, "APPROVE"]),
                ("dilnoza", ["ITEM.FIRE", id, "accept"]),
                ("dilnoza", ["ITEM.FIRE", id, "send-back"]),
                ("sec", ["ITEM.FIRE", id, "open-endorsement"]),
                ("sec", ["ITEM.FIRE", id, "withdraw"]),
                ("ana", ["ITEM.FIRE", id, "cancel"]),
            ]
            let (user, args) = moves[Int(random.next() % UInt64(moves.count))]
            let reply = try? await server.withClient(user: user) { c in try await c.call(args) }
            if args[0] == "ITEM.CREATE", let created = reply?["id"]?.stringValue { ids.append(created) }
        }
    }

    /// The board as `user` should see it, counted from the items ITEM.LIST shows them.
    static func expectedStatus(_ items: [RESPValue], now: Date) -> [String: (items: Int, overdue: Int)] {
        var out: [String: (items: Int, overdue: Int)] = [:]
        for item in items {
            let key = "\(item["workflow"]?.stringValue ?? "?") \(item["state"]?.stringValue ?? "?") \(item["theme"]?.stringValue ?? "-")"
            let late = item["final"]?.boolValue == false && (item["due_at"]?.stringValue.flatMap(Timestamp.parse).map { $0 < now } ?? false)
            out[key, default: (0, 0)].items += 1
            if late { out[key, default: (0, 0)].overdue += 1 }
        }
        return out
    }

    static func reportedStatus(_ rows: [RESPValue]) -> [String: (items: Int, overdue: Int)] {
        var out: [String: (items: Int, overdue: Int)] = [:]
        for r in rows {
            let key = "\(r["workflow"]?.stringValue ?? "?") \(r["state"]?.stringValue ?? "?") \(r["theme"]?.stringValue ?? "-")"
            out[key] = (r["items"]?.intValue ?? -1, r["overdue"]?.intValue ?? -1)
        }
        return out
    }

    /// Cells of the board (with what is not folded yet) that differ from the items counted
    /// afresh, to the workflow version and due day: 0 when the board is right.
    static func boardDifferences(_ url: DatabaseURL) async throws -> Int {
        let connection = try await PostgresConnection.connect(configuration: try url.connectionConfiguration(), id: 1, logger: TestDatabase.logger)
        defer { Task { try? await connection.close() } }
        let rows = try await connection.query("""
            WITH b AS (SELECT workflow, workflow_version, state, theme, group_slug, due_day, sum(items)::int8 AS n
                       FROM (SELECT workflow, workflow_version, state, theme, group_slug, due_day, items FROM board
                             UNION ALL
                             SELECT workflow, workflow_version, state, theme, group_slug, due_day, delta FROM board_changes) x
                       GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(items) <> 0),
                 i AS (SELECT workflow, workflow_version, state, coalesce(theme, ''), coalesce(group_slug, ''),
                              docket_due_day(final, due_at), count(*)::int8 AS n
                       FROM items GROUP BY 1, 2, 3, 4, 5, 6)
            SELECT count(*)::int FROM ((SELECT * FROM b EXCEPT SELECT * FROM i) UNION ALL (SELECT * FROM i EXCEPT SELECT * FROM b)) d
            """, logger: TestDatabase.logger)
        for try await n in rows.decode(Int.self) { return n }
        return -1
    }

    static func same(_ a: [String: (items: Int, overdue: Int)], _ b: [String: (items: Int, overdue: Int)]) -> Bool {
        a.count == b.count && a.allSatisfy { key, value in b[key].map { $0 == value } ?? false }
    }

    @Test("REPORT.STATUS equals the items each user can see, counted one by one, before and after the board is folded")
    func statusMatchesItems() async throws {
        let clock = ManualClock(Date())
        try await TestServer.with(clock: clock) { server in
            try await server.withClient { admin in try await EurasiaSection.setUp(admin) }
            try await Self.walk(server, clock: clock, steps: 160, seed: 7)
            // Lena left the group after starting two drafts: she sees them as their author only.
            try await server.withClient { admin in
                try await admin.call("USER.ADD", "lena", "Lena Vogel")
                try await admin.call("USER.GRANT", "lena", "drafter", "GROUP", "sustainability-wg")
            }
            try await server.withClient(user: "lena") { c in
                for title in ["Cooling corridors", "Heat plans for schools"] {
                    try await c.call("ITEM.CREATE", "policy-paper", title, "THEME", "sustainability", "GROUP", "sustainability-wg")
                }
            }
            _ = try await server.withClient { admin in try await admin.call("USER.REVOKE", "lena", "drafter", "GROUP", "sustainability-wg") }
            clock.advance(by: 15 * 86_400)   // papers of the first days are past their 30 days of drafting
            // Every policy paper moves to a second version of its workflow: each one leaves one
            // cell of the board and enters another.
            try await server.withClient { admin in
                let v1 = try String(contentsOf: TestDatabase.packageRoot.appendingPathComponent("Workflows/policy-paper.yaml"), encoding: .utf8)
                try await admin.call("WORKFLOW.LOAD", v1.replacingOccurrences(of: "version: 1", with: "version: 2"))
                let moved = try await admin.call("WORKFLOW.MIGRATE", "policy-paper", "2").arrayValue ?? []
                #expect(moved.count > 10 && moved.allSatisfy { $0["ok"]?.boolValue == true }, "\(moved)")
            }
            var folded = 0
            for round in 0..<2 {
                var overdueSeen = 0
                for user in Self.viewers {
                    overdueSeen += try await server.withClient(user: user) { c in
                        let items = try await c.call("ITEM.LIST", "LIMIT", "10000").arrayValue ?? []
                        if user == "lena" { #expect(items.filter { $0["state"]?.stringValue == "drafting" }.count == 2, "her own drafts, no one else's") }
                        let expected = Self.expectedStatus(items, now: clock.now())
                        let reported = Self.reportedStatus(try await c.call("REPORT.STATUS").arrayValue ?? [])
                        #expect(Self.same(expected, reported), "\(user), round \(round): expected \(expected), reported \(reported)")
                        for workflow in ["policy-paper", "thematic-project"] {
                            let only = try await c.call("REPORT.STATUS", "WORKFLOW", workflow, "THEME", "sustainability").arrayValue ?? []
                            let want = expected.filter { $0.key.hasPrefix(workflow + " ") && $0.key.hasSuffix(" sustainability") }
                            #expect(Self.same(want, Self.reportedStatus(only)), "\(user), \(workflow) in sustainability")
                        }
                        return reported.values.map(\.overdue).reduce(0, +)
                    }
                }
                #expect(overdueSeen > 0, "the walk leaves some items overdue")
                #expect(try await Self.boardDifferences(server.url) == 0, "round \(round): the board differs from the items")
                if round == 0 { folded = try await server.store.foldBoard() }
            }
            #expect(folded > 0, "the walk's moves were pending until folded")
            #expect(try await server.store.foldBoard() == 0)

            // An item falling due today is overdue by the clock, not by the board's day: one
            // second before its due time and one second after.
            try await server.withClient { c in
                let items = try await c.call("ITEM.LIST", "LIMIT", "10000").arrayValue ?? []
                let due = items.compactMap { $0["final"]?.boolValue == false ? $0["due_at"]?.stringValue.flatMap(Timestamp.parse) : nil }
                guard let instant = due.max() else { Issue.record("no open item has a due time"); return }
                var overdue: [Int] = []
                for offset in [-1.0, 1.0] {
                    clock.set(instant.addingTimeInterval(offset))
                    let expected = Self.expectedStatus(items, now: clock.now())
                    let reported = Self.reportedStatus(try await c.call("REPORT.STATUS").arrayValue ?? [])
                    #expect(Self.same(expected, reported), "\(offset) s around \(instant): expected \(expected), reported \(reported)")
                    overdue.append(reported.values.map(\.overdue).reduce(0, +))
                }
                #expect(overdue[1] > overdue[0], "the item became overdue at its due time: \(overdue)")
            }
        }
    }

    @Test("REPORT.WAITING USER u names exactly the items ITEM.LIST WAITING u finds, longest waiting first; LIMIT cuts the same list")
    func waitingMatchesItems() async throws {
        let clock = ManualClock(Date())
        try await TestServer.with(clock: clock) { server in
            try await server.withClient { admin in try await EurasiaSection.setUp(admin) }
            try await Self.walk(server, clock: clock, steps: 120, seed: 11)
            var nonEmpty = 0
            for viewer in ["admin", "sec", "ana", "omar"] {
                nonEmpty += try await server.withClient(user: viewer) { c in
                    var nonEmpty = 0
                    let open = (try await c.call("ITEM.LIST", "LIMIT", "10000").arrayValue ?? []).filter { $0["final"]?.boolValue == false }
                    let all = try await c.call("REPORT.WAITING", "LIMIT", "10000").arrayValue ?? []
                    #expect(Set(all.compactMap { $0["item"]?.stringValue }) == Set(open.compactMap { $0["id"]?.stringValue }), "\(viewer): every open item it sees")
                    let since = all.compactMap { $0["since"]?.stringValue.flatMap(Timestamp.parse) }
                    #expect(since.count == all.count && since == since.sorted(), "\(viewer): longest waiting first")
                    let firstThree = try await c.call("REPORT.WAITING", "LIMIT", "3").arrayValue ?? []
                    #expect(firstThree.map { $0["item"]?.stringValue } == all.prefix(3).map { $0["item"]?.stringValue })
                    for target in ["ana", "bruno", "chen", "dilnoza", "sec", "omar", "rep-kazan"] {
                        let listed = try await c.call("ITEM.LIST", "WAITING", target, "LIMIT", "10000").arrayValue ?? []
                        let reported = try await c.call("REPORT.WAITING", "USER", target, "LIMIT", "10000").arrayValue ?? []
                        #expect(Set(reported.compactMap { $0["item"]?.stringValue }) == Set(listed.compactMap { $0["id"]?.stringValue }),
                                "\(viewer) asking about \(target)")
                        for row in reported {
                            let on = row["waiting_on"]?.arrayValue?.compactMap(\.stringValue) ?? []
                            #expect(!on.isEmpty, "\(row) waits on someone")
                        }
                        if !reported.isEmpty { nonEmpty += 1 }
                    }
                    return nonEmpty
                }
            }
            #expect(nonEmpty >= 8, "the walk leaves items waiting on several of the users")
        }
    }

    @Test("REPORT.WAITING answers 100 items unless LIMIT says otherwise; refuses a LIMIT outside 1...10000 and an unknown user")
    func waitingLimits() async throws {
        try await TestServer.with { server in
            try await server.withClient { admin in try await EurasiaSection.setUp(admin) }
            try await server.withClient(user: "ana") { ana in
                _ = try await ana.pipeline((1...101).map { ["ITEM.CREATE", "thematic-project", "Cooling project \($0)", "GROUP", "sustainability-wg"] })
            }
            try await server.withClient { c in
                #expect((try await c.call("REPORT.WAITING").arrayValue ?? []).count == 100)
                #expect((try await c.call("REPORT.WAITING", "LIMIT", "101").arrayValue ?? []).count == 101)
                #expect((try await c.call("REPORT.WAITING", "USER", "ana", "LIMIT", "7").arrayValue ?? []).count == 7)
                for bad in ["0", "10001", "-3", "many"] {
                    await #expect(throws: ServerError.self) { try await c.call("REPORT.WAITING", "LIMIT", bad) }
                }
                do {
                    _ = try await c.call("REPORT.WAITING", "LIMIT", "0")
                    Issue.record("LIMIT 0 was accepted")
                } catch let error as ServerError {
                    #expect(error.code == "INVALID" && error.message.contains("LIMIT"), "\(error)")
                }
                do {
                    _ = try await c.call("REPORT.WAITING", "USER", "nobody-here")
                    Issue.record("an unknown user was accepted")
                } catch let error as ServerError {
                    #expect(error.code == "NOTFOUND", "\(error)")
                }
            }
        }
    }
}
