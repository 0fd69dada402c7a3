import DocketTestSupport
import Foundation
import PostgresNIO
import Testing

@Suite("docket audit verify", .timeLimit(.minutes(10)))
struct AuditCommandTests {
    @Test("verifies every chain and one item's, finds a forged event (exit 65), and is for the secretariat only")
    func verify() async throws {
        try await Desk.with { desk in
            let id = try await EurasiaSection.submittedPaper(desk)
            let other = try await EurasiaSection.submittedPaper(desk, title: "Gender equity in city budgets")

            let all = try await desk.run("sec", ["audit", "verify"])
            #expect(all.status == 0, "\(all.stderr)")
            #expect(all.stdout.hasPrefix("audit chain verifies (2 items, ") && all.stdout.contains("every item's SHA-256 chain recomputed"), "\(all.stdout)")
            let one = try await desk.json("sec", ["audit", "verify", id]) as? [String: Any]
            #expect(one?["ok"] as? Bool == true && one?["items"] as? Int == 1 && one?["first_bad"] is NSNull)
            let unknown = try await desk.run("sec", ["audit", "verify", "PP-404"])
            #expect(unknown.status == 66 && unknown.oneLineError, "\(unknown.stderr)")
            // `docket audit` alone verifies.
            #expect(try await desk.run("admin", ["audit"]).status == 0)

            let denied = try await desk.run("ana", ["audit", "verify"])
            #expect(denied.status == 77 && denied.oneLineError && denied.stderr.hasPrefix("docket: NOPERM"), "\(denied.stderr)")

            // An event rewritten behind the server's back (its trigger disabled, as only a
            // superuser could) breaks that item's chain, and only that item's.
            try await desk.server.store.client.withConnection { c in
                try await c.query("ALTER TABLE events DISABLE TRIGGER events_no_update", logger: TestDatabase.logger)
                try await c.query("UPDATE events SET comment = 'forged' WHERE item_id = \(id) AND version = 2", logger: TestDatabase.logger)
                try await c.query("ALTER TABLE events ENABLE TRIGGER events_no_update", logger: TestDatabase.logger)
            }
            let broken = try await desk.run("sec", ["audit", "verify"])
            #expect(broken.status == 65, "\(broken.stdout)\(broken.stderr)")
            #expect(broken.stdout.contains("DOES NOT verify") && broken.stdout.contains("\(id) v2"), "\(broken.stdout)")
            let json = try await desk.run("sec", ["audit", "verify", "--json"])
            let reply = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
            #expect(json.status == 65 && reply?["ok"] as? Bool == false && (reply?["first_bad"] as? String)?.hasPrefix("\(id) v2") == true)
            #expect(try await desk.run("sec", ["audit", "verify", other]).status == 0)
        }
    }
}
