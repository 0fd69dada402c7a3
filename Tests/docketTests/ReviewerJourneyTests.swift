import DocketTestSupport
import Foundation
import Testing

@Suite("docket: reviewers and chairs", .timeLimit(.minutes(10)))
struct ReviewerJourneyTests {
    @Test("assign, inbox, review, accept")
    func reviewing() async throws {
        try await Desk.with { desk in
            let id = try await EurasiaSection.submittedPaper(desk)
            let assigned = try await desk.run("dilnoza", ["assign", id, "bruno", "chen"])
            #expect(assigned.status == 0 && assigned.stdout == "\(id): 2 reviewers assigned\n", "\(assigned.stdout)\(assigned.stderr)")

            let inbox = try await desk.json("bruno", ["inbox"]) as? [[String: Any]]
            #expect(inbox?.compactMap { $0["id"] as? String } == [id])
            #expect(inbox?.first?["due_at"] as? String != nil)
            let text = try await desk.run("bruno", ["inbox"])
            #expect(text.stdout.hasPrefix("ID") && text.stdout.contains(id) && text.stdout.contains("(in 14d)"), "\(text.stdout)")

            // The author cannot review their own paper.
            let own = try await desk.run("ana", ["review", id, "approve"])
            #expect(own.status == 77 && own.oneLineError && own.stderr.contains("the author cannot review their own item"), "\(own.stderr)")

            let first = try await desk.json("bruno", ["review", id, "approve", "-m", "well argued"]) as? [String: Any]
            #expect(first?["approve"] as? Int == 1 && first?["reject"] as? Int == 0)
            let emptied = try await desk.json("bruno", ["inbox"]) as? [Any]
            #expect(emptied?.isEmpty == true)
            let early = try await desk.run("dilnoza", ["do", id, "accept"])
            #expect(early.status == 77 && early.stderr.contains("1 approvals in this round, needs at least 2"), "\(early.stderr)")

            let second = try await desk.run("chen", ["review", id, "approve"])
            #expect(second.stdout == "\(id): approve recorded — this round: 2 approve, 0 changes, 0 reject\n", "\(second.stdout)")
            let accepted = try await desk.json("dilnoza", ["do", id, "accept"]) as? [String: Any]
            #expect(accepted?["to"] as? String == "secretariat-review")

            let bad = try await desk.run("bruno", ["review", id, "maybe"])
            #expect(bad.status == 64)
        }
    }

    @Test("why --as: the secretariat asks on a chair's behalf; others may not")
    func whyAs() async throws {
        try await Desk.with { desk in
            let id = try await EurasiaSection.submittedPaper(desk)
            let r = try await desk.run("sec", ["why", id, "accept", "--as", "dilnoza"])
            #expect(r.status == 77)
            #expect(r.stdout.hasPrefix("\(id) accept: not allowed for dilnoza"))
            #expect(r.stdout.contains("✓ dilnoza is chair") && r.stdout.contains("✗ 0 approvals in this round, needs at least 2"), "\(r.stdout)")
            let nosy = try await desk.run("bruno", ["why", id, "accept", "--as", "dilnoza"])
            #expect(nosy.status == 77 && nosy.oneLineError && nosy.stderr.hasPrefix("docket: NOPERM"), "\(nosy.stderr)")
        }
    }
}

@Suite("docket: member representatives", .timeLimit(.minutes(10)))
struct MemberJourneyTests {
    @Test("endorse for the member one represents, withdraw, and the secretariat records for others")
    func endorsing() async throws {
        try await Desk.with { desk in
            let id = try await EurasiaSection.paperInEndorsement(desk)
            let one = try await desk.run("rep-almaty", ["endorse", id, "-m", "Almaty supports this"])
            #expect(one.status == 0 && one.stdout == "\(id): endorsed for almaty — 1 endorsement now\n", "\(one.stdout)\(one.stderr)")
            #expect(try await desk.json("rep-kazan", ["endorse", id]) as? Int == 2)
            let twice = try await desk.run("rep-almaty", ["endorse", id])
            #expect(twice.status == 77 && twice.stderr.contains("almaty has already endorsed"), "\(twice.stderr)")
            let notMine = try await desk.run("rep-almaty", ["endorse", id, "--member", "bishkek"])
            #expect(notMine.status == 77 && notMine.stderr.contains("rep-almaty does not represent bishkek"))
            let nobody = try await desk.run("bruno", ["endorse", id])
            #expect(nobody.status == 64 && nobody.oneLineError && nobody.stderr.contains("--member"), "\(nobody.stderr)")
            #expect(try await desk.json("sec", ["endorse", id, "--member", "bishkek"]) as? Int == 3)
            let withdrawn = try await desk.run("rep-kazan", ["unendorse", id])
            #expect(withdrawn.stdout == "\(id): endorsement of kazan withdrawn — 2 endorsements now\n", "\(withdrawn.stdout)\(withdrawn.stderr)")
            let show = try await desk.json("sec", ["show", id]) as? [String: Any]
            let endorsements = show?["endorsements"] as? [[String: Any]]
            #expect(endorsements?.compactMap { $0["name"] as? String } == ["Алматы", "Бишкек"])
        }
    }
}
