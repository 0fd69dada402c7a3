import DocketTestSupport
import Foundation
import Testing

@Suite("docket: a drafter's day", .timeLimit(.minutes(10)))
struct DrafterJourneyTests {
    @Test("new, edit, revise from a file and stdin, text, diff, comment, why, do")
    func drafting() async throws {
        try await Desk.with { desk in
            let created = try await desk.json("ana", ["new", "paper", "Green public procurement in member cities",
                                                      "--theme", "sustainability", "--group", "sustainability-wg", "--field", "summit=World Summit 2026"]) as? [String: Any]
            let id = try #require(created?["id"] as? String)
            #expect(id.hasPrefix("PP-"))
            #expect(created?["workflow"] as? String == "policy-paper" && created?["state"] as? String == "drafting")
            #expect((created?["fields"] as? [String: Any])?["summit"] as? String == "World Summit 2026")
            #expect(created?["transitions"] as? [String] == ["submit", "withdraw"])

            // Submitting without summary and body is refused and says why.
            let why = try await desk.run("ana", ["why", id, "submit"])
            #expect(why.status == 77)
            #expect(why.stdout.contains("✗ summary is empty") && why.stdout.contains("✗ body has no revision yet"), "\(why.stdout)")
            #expect(why.stdout.contains("✓ ana is author"), "\(why.stdout)")
            let refused = try await desk.run("ana", ["do", id, "submit"])
            #expect(refused.status == 77 && refused.oneLineError)
            #expect(refused.stderr.hasPrefix("docket: DENIED") && refused.stderr.contains("docket why \(id) submit"), "\(refused.stderr)")

            let edited = try await desk.json("ana", ["edit", id, "summary=Buying green across the section", "--if-version", "1"]) as? [String: Any]
            #expect(edited?["version"] as? Int == 2)
            let stale = try await desk.run("ana", ["edit", id, "summary=again", "--if-version", "1"])
            #expect(stale.status == 75 && stale.oneLineError && stale.stderr.hasPrefix("docket: CONFLICT"), "\(stale.stderr)")

            let file = desk.home + "/paper.md"
            try "# Green procurement\n\nCities buy green.\n".write(toFile: file, atomically: true, encoding: .utf8)
            let r1 = try await desk.json("ana", ["revise", id, file, "--note", "first draft"]) as? [String: Any]
            #expect(r1?["revision"] as? Int == 1)
            let r2 = try await desk.run("ana", ["revise", id, "-"], stdin: "# Green procurement\n\nCities and regions buy green.\n")
            #expect(r2.status == 0 && r2.stdout.hasPrefix("\(id) revision 2"), "\(r2.stdout)\(r2.stderr)")
            let missing = try await desk.run("ana", ["revise", id, desk.home + "/nope.md"])
            #expect(missing.status == 66 && missing.oneLineError)

            let text = try await desk.run("ana", ["text", id, "--rev", "1"])
            #expect(text.stdout == "# Green procurement\n\nCities buy green.\n")
            let diff = try await desk.run("ana", ["diff", id, "1", "2"])
            #expect(diff.stdout.contains("-Cities buy green.\n+Cities and regions buy green.\n"), "\(diff.stdout)")
            #expect(!diff.stdout.contains("\u{1B}["))

            let comment = try await desk.json("ana", ["comment", id, "Kazan's figures are in the annex"]) as? [String: Any]
            #expect(comment?["type"] as? String == "comment")

            let allowed = try await desk.json("ana", ["why", id, "submit"]) as? [String: Any]
            #expect(allowed?["allowed"] as? Bool == true)
            #expect((allowed?["checks"] as? [[String: Any]])?.allSatisfy { $0["ok"] as? Bool == true } == true)
            let fired = try await desk.json("ana", ["do", id, "submit", "-m", "ready for peer review"]) as? [String: Any]
            #expect(fired?["from"] as? String == "drafting" && fired?["to"] as? String == "peer-review")
            #expect(fired?["comment"] as? String == "ready for peer review")
        }
    }

    @Test("an unknown item is NOTFOUND, exit 66, one line with a hint")
    func notFound() async throws {
        try await Desk.with { desk in
            let r = try await desk.run("ana", ["show", "PP-99"])
            #expect(r.status == 66)
            #expect(r.oneLineError)
            #expect(r.stderr.hasPrefix("docket: NOTFOUND item PP-99 not found — run `docket list`"), "\(r.stderr)")
            let noTheme = try await desk.run("ana", ["new", "paper", "T", "--theme", "no-such-theme", "--group", "sustainability-wg"])
            #expect([65, 66].contains(noTheme.status) && noTheme.oneLineError, "\(noTheme.status) \(noTheme.stderr)")
        }
    }

    @Test("a project and an application are created with the short kinds")
    func kinds() async throws {
        try await Desk.with { desk in
            let project = try await desk.json("dilnoza", ["new", "project", "Clean air sensors", "--group", "sustainability-wg", "--field", "budget=40000"]) as? [String: Any]
            #expect((project?["id"] as? String)?.hasPrefix("TP-") == true)
            let application = try await desk.json("sec", ["new", "application", "Membership application: Osh", "--field", "kind=city"]) as? [String: Any]
            #expect((application?["id"] as? String)?.hasPrefix("MA-") == true)
            let noRole = try await desk.run("rep-almaty", ["new", "application", "Not mine"])
            #expect(noRole.status == 77 && noRole.oneLineError, "\(noRole.stderr)")
        }
    }
}
