import DocketTestSupport
import Foundation
import Testing

@Suite("docket: a thematic project from proposal to completion", .timeLimit(.minutes(10)))
struct ProjectJourneyTests {
    @Test("propose, appraise, approve, run milestone by milestone, report, complete")
    func project() async throws {
        try await Desk.with { desk in
            let created = try await desk.json("ana", ["new", "project", "Clean air sensors in schools", "--theme", "sustainability",
                                                      "--group", "sustainability-wg", "--field", "summary=Low-cost sensors", "--field", "budget=40000"]) as? [String: Any]
            let id = try #require(created?["id"] as? String)
            #expect(try await desk.run("ana", ["revise", id, "-"], stdin: "# Proposal\n\nForty schools.\n").status == 0)
            #expect(try await desk.run("ana", ["do", id, "submit"]).status == 0)
            #expect(try await desk.run("dilnoza", ["assign", id, "bruno", "chen"]).status == 0)
            for reviewer in ["bruno", "chen"] { #expect(try await desk.run(reviewer, ["review", id, "approve"]).status == 0) }
            #expect(try await desk.run("dilnoza", ["do", id, "recommend"]).status == 0)
            #expect(try await desk.run("sec", ["do", id, "approve"]).status == 0)

            let one = try await desk.json("ana", ["milestone", "add", id, "Sensors installed", "--due", "2027-03-01"]) as? Int
            #expect(one == 1)
            #expect(try await desk.run("ana", ["milestone", "add", id, "Open data portal live"]).stdout == "\(id): milestone 2 added\n")
            let done = try await desk.run("ana", ["milestone", "done", id, "1"])
            #expect(done.stdout == "\(id): milestone 1 done — 1 of 2 done\n", "\(done.stdout)\(done.stderr)")
            let early = try await desk.run("dilnoza", ["why", id, "report"])
            #expect(early.status == 77 && early.stdout.contains("✗ 1 of 2 milestones done, needs all"), "\(early.stdout)")
            #expect(try await desk.run("ana", ["milestone", "done", id, "2"]).status == 0)
            let list = try await desk.json("ana", ["milestone", "list", id]) as? [[String: Any]]
            #expect(list?.allSatisfy { $0["done_at"] as? String != nil } == true && list?.first?["due"] as? String == "2027-03-01T00:00:00Z")
            #expect(try await desk.run("dilnoza", ["do", id, "report", "-m", "final report attached"]).status == 0)
            let completed = try await desk.json("sec", ["do", id, "complete"]) as? [String: Any]
            #expect(completed?["to"] as? String == "completed")
            let shown = try await desk.run("sec", ["show", id])
            #expect(shown.stdout.contains("completed — Completed (final)") && shown.stdout.contains("milestones (2 of 2 done)"), "\(shown.stdout)")
            // Outside a review state, reviewers whose round is over are not shown as pending.
            #expect(!shown.stdout.contains("not voted"))
        }
    }
}
