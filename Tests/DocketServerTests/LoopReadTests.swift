import DocketClient
import DocketStore
import DocketTestSupport
import DocketWire
import Foundation
import Logging
import PostgresNIO
import Testing

/// ITEM.GET is answered over the session's event loop's own PostgreSQL connection when it has
/// one (`LoopReaders`), and through the pool otherwise: the answer must be the same either way.
@Suite("ITEM.GET on the event loop's own connection", .timeLimit(.minutes(5)))
struct LoopReadTests {
    static func loopReads(_ admin: DocketClient) async throws -> Int { try await stat(admin, "loop_reads") }

    /// Reads `id` as `reader` (expecting `title`) until an ITEM.GET has been answered on an event
    /// loop's own connection, which the first reads open in the background; the loop reads then.
    static func untilLoopReads(_ admin: DocketClient, _ reader: DocketClient, _ id: String, title: String) async throws -> Int {
        for _ in 0..<200 {
            #expect(try await reader.call("ITEM.GET", id)["title"]?.stringValue == title)
            let reads = try await loopReads(admin)
            if reads > 0 { return reads }
            try await Task.sleep(for: .milliseconds(10))
        }
        return 0
    }

    /// A number from INFO's Stats section; -1 when it is not there.
    static func stat(_ admin: DocketClient, _ name: String) async throws -> Int {
        let info = try await admin.call("INFO", "stats").stringValue ?? ""
        let line = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix(name + ":") }
        return line.flatMap { Int($0.dropFirst(name.count + 1)) } ?? -1
    }

    /// Runs one statement on the test database; the first row's first column, as an integer
    /// (0 when the statement returns no rows).
    @discardableResult
    static func sql(_ url: DatabaseURL, _ query: PostgresQuery) async throws -> Int {
        let connection = try await PostgresConnection.connect(configuration: try url.connectionConfiguration(), id: 1, logger: TestDatabase.logger)
        defer { Task { try? await connection.close() } }
        let rows = try await connection.query(query, logger: TestDatabase.logger)
        for try await n in rows.decode(Int.self) { return n }
        return 0
    }

    /// Closes the loop readers' connections from the server side, as a restart or an
    /// administrator's pg_terminate_backend would.
    static func terminateLoopConnections(_ url: DatabaseURL) async throws -> Int {
        try await sql(url, """
            SELECT count(pg_terminate_backend(pid))::int FROM pg_stat_activity
            WHERE application_name = \(LoopReaders.applicationName) AND datname = current_database()
            """)
    }

    /// A server with the Eurasia section set up and ana's paper PP-1, "Urban heat islands".
    static func withPaper(_ body: @Sendable (TestServer) async throws -> Void) async throws {
        try await TestServer.with { server in
            try await server.withClient { admin in try await EurasiaSection.setUp(admin) }
            _ = try await server.withClient(user: "ana") { ana in
                try await ana.call("ITEM.CREATE", "policy-paper", "Urban heat islands", "THEME", "sustainability", "GROUP", "sustainability-wg")
            }
            try await body(server)
        }
    }

    @Test("ITEM.GET goes over the loop's connection, keeps hiding drafts there, and still answers when that connection is killed")
    func loopReadsAndFallback() async throws {
        try await TestServer.with { server in
            try await server.withClient { admin in try await EurasiaSection.setUp(admin) }
            let created = try await server.withClient(user: "ana") { c in
                try await c.call("ITEM.CREATE", "policy-paper", "Urban heat islands", "THEME", "sustainability", "GROUP", "sustainability-wg")
            }
            try await server.withClient { admin in
                try await server.withClient(user: "ana") { ana in
                    try await server.withClient(user: "omar") { omar in
                        let reads = try await Self.untilLoopReads(admin, ana, "PP-1", title: "Urban heat islands")
                        #expect(reads > 0, "no ITEM.GET was answered on an event loop's own connection")
                        // Read on the loop, the drafting state's due date comes back as created.
                        let dueAt = created["due_at"]?.stringValue
                        let read = try await ana.call("ITEM.GET", "PP-1")
                        #expect(dueAt != nil && read["due_at"]?.stringValue == dueAt)

                        // The loop path checks visibility like the pooled one, and unknown ids
                        // are NOTFOUND there too: asked until one of each was answered on a
                        // loop's own connection (a session's loop may still be opening its own).
                        for (client, id) in [(omar, "PP-1"), (ana, "PP-404")] {
                            var onLoop = false
                            for _ in 0..<200 where !onLoop {
                                let before = try await Self.loopReads(admin)
                                do {
                                    _ = try await client.call("ITEM.GET", id)
                                    Issue.record("ITEM.GET \(id) answered")
                                } catch let error as ServerError {
                                    #expect(error.code == "NOTFOUND", "\(error)")
                                }
                                onLoop = try await Self.loopReads(admin) > before
                                if !onLoop { try await Task.sleep(for: .milliseconds(10)) }
                            }
                            #expect(onLoop, "ITEM.GET \(id) was never answered on a loop's own connection")
                        }

                        let killed = try await Self.terminateLoopConnections(server.url)
                        #expect(killed >= 1, "the loop connections show in pg_stat_activity under their name")
                        // Every read still answers (through the pool until the loop reconnects),
                        // and the loop path comes back.
                        let before = try await Self.loopReads(admin)
                        var after = before
                        for _ in 0..<300 where after == before {
                            #expect(try await ana.call("ITEM.GET", "PP-1")["title"]?.stringValue == "Urban heat islands")
                            after = try await Self.loopReads(admin)
                            if after == before { try await Task.sleep(for: .milliseconds(20)) }
                        }
                        #expect(after > before, "the loop reconnected within 6 s")
                    }
                }
            }
        }
    }

    @Test("items read on the loop's connection, from their binary rows, are the same replies as read through the pool")
    func loopAndPoolAgree() async throws {
        try await TestServer.with { server in
            try await server.withClient { admin in try await EurasiaSection.setUp(admin) }
            let title = "Зелёные закупки: \"green\" buying, 100%"
            let summary = "Алматы, Казань и Бишкек: {\"a\": [1, 2]} \\ tab\there\nsecond line"
            try await server.withClient(user: "ana") { ana in
                try await ana.call("ITEM.CREATE", "policy-paper", title, "THEME", "sustainability", "GROUP", "sustainability-wg",
                                   "FIELD", "summary", summary, "FIELD", "summit", "Казань 2027")
                try await ana.call("ITEM.CREATE", "policy-paper", "Bare", "GROUP", "sustainability-wg")
            }
            // Assignees are read on the loop too (for visibility): set here with odd characters.
            // PP-2 has every column that may be NULL set to NULL, and no assignees.
            try await Self.sql(server.url, "UPDATE items SET assignees = ARRAY['bruno', 'chen, \"the second\"', 'Ω'] WHERE id = 'PP-1'")
            try await Self.sql(server.url, "UPDATE items SET theme = NULL, group_slug = NULL, due_at = NULL, assignees = '{}' WHERE id = 'PP-2'")
            try await server.withClient { admin in
                try await server.withClient(user: "ana") { ana in
                    _ = try await Self.untilLoopReads(admin, ana, "PP-1", title: title)
                    var onLoop: [RESPValue] = []
                    for (client, id) in [(ana, "PP-1"), (admin, "PP-2")] {
                        var read: RESPValue?
                        for _ in 0..<200 where read == nil {
                            let before = try await Self.loopReads(admin)
                            let reply = try await client.call("ITEM.GET", id)
                            if try await Self.loopReads(admin) == before + 1 { read = reply } else { try await Task.sleep(for: .milliseconds(10)) }
                        }
                        onLoop.append(try #require(read, "\(id) was never read on a loop's own connection"))
                    }
                    #expect(onLoop[0]["fields"]?["summary"]?.stringValue == summary)
                    #expect(onLoop[0]["theme"]?.stringValue == "sustainability" && onLoop[0]["group"]?.stringValue == "sustainability-wg")
                    #expect(onLoop[0]["due_at"]?.stringValue != nil && onLoop[0]["workflow_version"]?.intValue == 1)
                    #expect(onLoop[1]["theme"]?.isNull == true && onLoop[1]["group"]?.isNull == true && onLoop[1]["due_at"]?.isNull == true)

                    // With the loops' connections ended, reads go through the pool until a
                    // loop reconnects (a second later at the soonest): a read that did not
                    // count as a loop read was pooled.
                    for (n, (client, id)) in [(ana, "PP-1"), (admin, "PP-2")].enumerated() {
                        _ = try await Self.terminateLoopConnections(server.url)
                        var pooled: RESPValue?
                        for _ in 0..<50 {
                            let reads = try await Self.loopReads(admin)
                            let read = try await client.call("ITEM.GET", id)
                            if try await Self.loopReads(admin) == reads { pooled = read; break }
                        }
                        let reply = try #require(pooled, "no read of \(id) went through the pool")
                        #expect("\(reply)" == "\(onLoop[n])")
                    }
                }
            }
        }
    }

    /// Ends every other connection to the test database (the pool's and the loops').
    static func terminateAll(_ url: DatabaseURL) async throws {
        try await sql(url, "SELECT count(pg_terminate_backend(pid))::int FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
    }

    /// How many loop reader connections the test database has now.
    static func loopConnections(_ url: DatabaseURL) async throws -> Int {
        try await sql(url, "SELECT count(*)::int FROM pg_stat_activity WHERE application_name = \(LoopReaders.applicationName) AND datname = current_database()")
    }

    @Test("a column whose type changed under the loop's read: the loop cannot read its rows, and every ITEM.GET answers through the pool")
    func tableChangedUnderTheLoopRead() async throws {
        try await Self.withPaper { server in
            try await server.withClient { admin in
                try await server.withClient(user: "ana") { ana in
                    #expect(try await Self.untilLoopReads(admin, ana, "PP-1", title: "Urban heat islands") > 0)
                    // revisions becomes an int8; every connection is ended, so each prepares its
                    // statements anew. The pool's typed decoding reads an int8; the loop's read
                    // of an int4 refuses it, and sends its reads to the pool.
                    try await Self.sql(server.url, "ALTER TABLE items ALTER COLUMN revisions TYPE bigint")
                    try await Self.terminateAll(server.url)
                    try await Task.sleep(for: .milliseconds(500))
                    let before = try await Self.loopReads(admin)
                    let until = ContinuousClock.now + .seconds(3)
                    var (reads, loopConnected) = (0, false)
                    while ContinuousClock.now < until {
                        #expect(try await ana.call("ITEM.GET", "PP-1")["title"]?.stringValue == "Urban heat islands")
                        reads += 1
                        if try await Self.loopConnections(server.url) > 0 { loopConnected = true }
                        try await Task.sleep(for: .milliseconds(20))
                    }
                    #expect(reads > 20)
                    #expect(loopConnected, "a loop connected again (and its reads went to the pool)")
                    #expect(try await Self.loopReads(admin) == before, "no read was answered from a row the loop cannot read")
                }
            }
        }
    }

    @Test("a column whose type changed under running statements: each stale connection is replaced and every command answers, written once")
    func staleStatementsAreReplaced() async throws {
        try await Self.withPaper { server in
            // Many clients at once, so that many of the pools' connections prepare the reads and
            // the writes.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<12 {
                    group.addTask {
                        try await server.withClient(user: "ana") { ana in
                            for n in 0..<20 {
                                _ = try await ana.call("ITEM.GET", "PP-1")
                                if n % 5 == 0 { _ = try await ana.call("ITEM.COMMENT", "PP-1", "warming up") }
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let before = try await Self.sql(server.url, "SELECT count(*)::int FROM events WHERE item_id = 'PP-1'")
            try await Self.sql(server.url, "ALTER TABLE items ALTER COLUMN revisions TYPE bigint")
            // Each command that meets a connection prepared before the change closes it and runs
            // again on another: none is refused, and none is written twice.
            try await server.withClient(user: "ana") { ana in
                for n in 0..<40 {
                    let item = try await ana.call("ITEM.GET", "PP-1")
                    #expect(item["title"]?.stringValue == "Urban heat islands")
                    let event = try await ana.call("ITEM.COMMENT", "PP-1", "after the change \(n)")
                    #expect(event["type"]?.stringValue == "comment")
                }
            }
            #expect(try await Self.sql(server.url, "SELECT count(*)::int FROM events WHERE item_id = 'PP-1'") == before + 40)
            #expect(try await Self.sql(server.url, "SELECT count(DISTINCT comment)::int FROM events WHERE item_id = 'PP-1' AND comment LIKE 'after the change %'") == 40)
        }
    }

    @Test("reads asked for while a query is out go together in the next one: each client gets its own item, as it may see it")
    func batchedReads() async throws {
        try await TestServer.with { server in
            try await server.withClient { admin in try await EurasiaSection.setUp(admin) }
            let papers = 12
            try await server.withClient(user: "ana") { c in
                for n in 1...papers {
                    try await c.call("ITEM.CREATE", "policy-paper", "Paper \(n)", "THEME", "sustainability", "GROUP", "sustainability-wg")
                }
            }
            try await server.withClient { admin in
                // Wait until the loops' own connections answer.
                try await server.withClient(user: "ana") { ana in
                    _ = try await Self.untilLoopReads(admin, ana, "PP-1", title: "Paper 1")
                }
                let (reads, queries) = (try await Self.loopReads(admin), try await Self.stat(admin, "loop_read_queries"))
                #expect(reads > 0 && queries > 0 && queries <= reads)
                // 16 clients at once: ana sees every draft of her group, omar (another group)
                // none of them; PP-999 is nobody's. Answers must not be crossed between them.
                let (clients, rounds) = (16, 40)
                let wrong = try await withThrowingTaskGroup(of: Int.self) { group in
                    for c in 0..<clients {
                        group.addTask {
                            let user = c % 2 == 0 ? "ana" : "omar"
                            return try await server.withClient(user: user) { client in
                                var wrong = 0
                                for r in 0..<rounds {
                                    let n = (c * 7 + r) % (papers + 1) + 1
                                    let id = n > papers ? "PP-999" : "PP-\(n)"
                                    let expected = user == "ana" && n <= papers ? "Paper \(n)" : nil
                                    do {
                                        let title = try await client.call("ITEM.GET", id)["title"]?.stringValue
                                        if title != expected { wrong += 1 }
                                    } catch let error as ServerError where error.code == "NOTFOUND" {
                                        if expected != nil { wrong += 1 }
                                    }
                                }
                                return wrong
                            }
                        }
                    }
                    return try await group.reduce(0, +)
                }
                #expect(wrong == 0, "\(wrong) of \(clients * rounds) reads answered with another item or visibility")
                let (readsAfter, queriesAfter) = (try await Self.loopReads(admin), try await Self.stat(admin, "loop_read_queries"))
                #expect(readsAfter - reads > clients * rounds / 2, "most reads went over the loops' own connections")
                #expect(queriesAfter - queries < readsAfter - reads, "reads that arrived together were sent as one query")
                print("loop reads: \(readsAfter - reads) reads in \(queriesAfter - queries) queries")
            }
        }
    }

    @Test("an id no item can have is read through the pool, bound as a parameter: NOTFOUND, nothing else happens")
    func oddIDsTakeThePool() async throws {
        try await TestServer.with { server in
            try await server.withClient { admin in try await EurasiaSection.setUp(admin) }
            try await server.withClient(user: "ana") { ana in
                try await ana.call("ITEM.CREATE", "policy-paper", "Urban heat islands", "THEME", "sustainability", "GROUP", "sustainability-wg")
                try await server.withClient { admin in
                    let before = try await Self.untilLoopReads(admin, ana, "PP-1", title: "Urban heat islands")
                    #expect(before > 0)
                    // Quotes, braces, a comma, a space, Cyrillic, an overlong id: no item has such
                    // an id, and they take the pooled path, not the loop's batched read.
                    let odd = ["PP-1'); DROP TABLE items; --", "PP-1\"}", "PP-1,PP-2", "PP 1", "ПП-1", String(repeating: "P", count: 65), "NULL"]
                    for id in odd {
                        do {
                            _ = try await ana.call("ITEM.GET", id)
                            Issue.record("ITEM.GET \(id) answered")
                        } catch let error as ServerError {
                            #expect(error.code == "NOTFOUND", "\(id): \(error)")
                        }
                    }
                    // Only "NULL" (letters alone) may take the loop path; the rest took the pool.
                    #expect(try await Self.loopReads(admin) - before <= 1)
                    #expect(try await ana.call("ITEM.GET", "PP-1")["title"]?.stringValue == "Urban heat islands")
                    #expect(try await admin.call("ITEM.LIST").arrayValue?.count == 1)
                }
            }
        }
    }
}
