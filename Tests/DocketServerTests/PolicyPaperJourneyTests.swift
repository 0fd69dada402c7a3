import DocketClient
import DocketTestSupport
import DocketWire
import Foundation
import Testing

@Suite("A policy paper from creation to adoption, through the admin server", .timeLimit(.minutes(10)))
struct PolicyPaperJourneyTests {
    @Test("walk a paper through review and endorsement; history and audit check out", arguments: [false, true])
    func journey(resp3: Bool) async throws {
        try await TestServer.with { server in
            try await server.withClient(resp3: resp3) { admin in try await EurasiaSection.setUp(admin) }
            let ana = try await server.store.createToken(for: "ana")
            let id: String = try await server.withClient(user: "ana", token: ana, resp3: resp3) { c in
                let item = try await c.call("ITEM.CREATE", "policy-paper", "Green public procurement in member cities",
                                            "THEME", "sustainability", "GROUP", "sustainability-wg", "FIELD", "summit", "World Summit 2026")
                #expect(item["state"]?.stringValue == "drafting")
                #expect(item["version"]?.intValue == 1)
                #expect(item["transitions"]?.arrayValue?.compactMap(\.stringValue) == ["submit", "withdraw"])
                #expect(item["final"]?.boolValue == false)
                let id = try #require(item["id"]?.stringValue)
                // Submit is refused and says what is missing.
                let refused = await #expect(throws: ServerError.self) { try await c.call("ITEM.FIRE", id, "submit") }
                #expect(refused?.code == "DENIED")
                #expect(refused?.message.contains("require:summary") == true && refused?.message.contains("require:body") == true)
                let explained = try await c.call("ITEM.EXPLAIN", id, "submit")
                #expect(explained["allowed"]?.boolValue == false)
                #expect(explained["checks"]?.arrayValue?.count == 4)
                try await c.call("ITEM.SET", id, "summary", "Buying green across the Eurasia section", "IFVERSION", "1")
                let r1 = try await c.call("ITEM.REVISE", id, "# Green procurement\n\nCities buy green.\n", "NOTE", "first draft")
                #expect(r1["revision"]?.intValue == 1)
                let r2 = try await c.call("ITEM.REVISE", id, "# Green procurement\n\nCities and regions buy green.\n")
                #expect(r2["revision"]?.intValue == 2)
                let diff = try await c.call("ITEM.DIFF", id, "1", "2").stringValue ?? ""
                #expect(diff.contains("-Cities buy green.\n+Cities and regions buy green.\n"))
                #expect(try await c.call("ITEM.TEXT", id, "REV", "1").stringValue == "# Green procurement\n\nCities buy green.\n")
                let fired = try await c.call("ITEM.FIRE", id, "submit", "COMMENT", "ready for peer review")
                #expect(fired["to"]?.stringValue == "peer-review" && fired["from"]?.stringValue == "drafting")
                #expect(fired["comment"]?.stringValue == "ready for peer review")
                return id
            }
            let dilnoza = try await server.store.createToken(for: "dilnoza")
            try await server.withClient(user: "dilnoza", token: dilnoza, resp3: resp3) { c in
                let assigned = try await c.call("REVIEW.ASSIGN", id, "bruno", "chen")
                #expect(assigned.intValue == 2)
            }
            // The author's own vote is refused.
            try await server.withClient(user: "ana", token: ana, resp3: resp3) { c in
                let own = await #expect(throws: ServerError.self) { try await c.call("REVIEW.VOTE", id, "APPROVE") }
                #expect(own?.code == "DENIED" && own?.message.contains("the author cannot review their own item") == true)
            }
            for reviewer in ["bruno", "chen"] {
                try await server.withClient(user: reviewer, resp3: resp3) { c in
                    let counts = try await c.call("REVIEW.VOTE", id, "approve", "COMMENT", "well argued")
                    #expect(counts["reject"]?.intValue == 0 && counts["stale"]?.intValue == 0)
                }
            }
            try await server.withClient(user: "dilnoza", token: dilnoza, resp3: resp3) { c in
                let votes = try await c.call("REVIEW.LIST", id).arrayValue ?? []
                #expect(votes.count == 2 && votes.allSatisfy { $0["vote"]?.stringValue == "approve" })
                try await c.call("ITEM.FIRE", id, "accept")
            }
            _ = try await server.withClient(user: "sec", resp3: resp3) { c in
                try await c.call("ITEM.FIRE", id, "open-endorsement")
            }
            for (n, member) in ["almaty", "kazan", "bishkek"].enumerated() {
                try await server.withClient(user: "rep-\(member)", resp3: resp3) { c in
                    let count = try await c.call("ENDORSE", id, member, "COMMENT", "\(member) supports this")
                    #expect(count.intValue == n + 1)
                }
            }
            try await server.withClient(user: "sec", resp3: resp3) { c in
                let endorsements = try await c.call("ENDORSE.LIST", id).arrayValue ?? []
                #expect(endorsements.compactMap { $0["name"]?.stringValue } == ["Алматы", "Казань", "Бишкек"])
                let adopted = try await c.call("ITEM.FIRE", id, "adopt", "IFVERSION", "13")
                #expect(adopted["to"]?.stringValue == "adopted" && adopted["version"]?.intValue == 14)
                let item = try await c.call("ITEM.GET", id)
                #expect(item["final"]?.boolValue == true && item["state"]?.stringValue == "adopted")
                let history = try await c.call("ITEM.HISTORY", id).arrayValue ?? []
                #expect(history.compactMap { $0["version"]?.intValue } == Array(1...14))
                #expect(history.compactMap { $0["type"]?.stringValue } == [
                    "created", "field", "revision", "revision", "transition", "assignment", "vote", "vote",
                    "transition", "transition", "endorsement", "endorsement", "endorsement", "transition",
                ])
                let audit = try await c.call("AUDIT.VERIFY")
                #expect(audit["ok"]?.boolValue == true && audit["events"]?.intValue == 14 && audit["items"]?.intValue == 1)
            }
        }
    }
}
