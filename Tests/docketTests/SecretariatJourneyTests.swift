import DocketTestSupport
import Foundation
import Testing

@Suite("docket: the secretariat's board and reports", .timeLimit(.minutes(10)))
struct SecretariatJourneyTests {
    @Test("status, list, show, history, waiting, overdue, report cycle, export")
    func tracking() async throws {
        try await Desk.with { desk in
            let adopted = try await EurasiaSection.paperInEndorsement(desk)
            for rep in ["rep-almaty", "rep-kazan", "rep-tbilisi"] {
                #expect(try await desk.run(rep, ["endorse", adopted, "-m", "\(rep) agrees"]).status == 0)
            }
            #expect(try await desk.run("sec", ["do", adopted, "adopt"]).status == 0)
            let reviewing = try await EurasiaSection.submittedPaper(desk, title: "Heat action plans")
            #expect(try await desk.run("dilnoza", ["assign", reviewing, "bruno"]).status == 0)

            let status = try await desk.json("sec", ["status"]) as? [[String: Any]]
            let adoptedRow = status?.first { $0["state"] as? String == "adopted" }
            #expect(adoptedRow?["workflow"] as? String == "policy-paper" && adoptedRow?["theme"] as? String == "sustainability")
            #expect(adoptedRow?["items"] as? Int == 1 && adoptedRow?["overdue"] as? Int == 0)
            let board = try await desk.run("sec", ["status"])
            #expect(board.stdout.hasPrefix("Policy paper (policy-paper)\nSTATE"), "\(board.stdout)")
            #expect(board.stdout.contains("2 items, none overdue"))
            let csv = try await desk.run("sec", ["status", "--format", "csv"])
            #expect(csv.stdout.hasPrefix("workflow,state,theme,items,overdue\n"))
            #expect(csv.stdout.contains("policy-paper,adopted,sustainability,1,0\n"), "\(csv.stdout)")
            let past = try await desk.json("sec", ["status", "--as-of", "2020-01-01"]) as? [Any]
            #expect(past?.isEmpty == true)
            let future = try await desk.json("sec", ["status", "--as-of", "2099-01-01"]) as? [[String: Any]]
            #expect(future?.first { $0["state"] as? String == "peer-review" }?["overdue"] as? Int == 1)
            let badDate = try await desk.run("sec", ["status", "--as-of", "yesterday"])
            #expect(badDate.status == 65 && badDate.oneLineError)

            let list = try await desk.json("sec", ["list", "--workflow", "paper"]) as? [[String: Any]]
            #expect(list?.compactMap { $0["id"] as? String } == [adopted, reviewing])
            let listCSV = try await desk.run("sec", ["list", "--state", "peer-review", "--format", "csv"])
            let lines = listCSV.stdout.split(separator: "\n")
            #expect(lines.count == 2 && lines[0].hasPrefix("id,workflow,state,theme,group,title") && lines[1].hasPrefix("\(reviewing),policy-paper,peer-review"))
            let waitingOnBruno = try await desk.json("sec", ["list", "--waiting", "bruno"]) as? [[String: Any]]
            #expect(waitingOnBruno?.compactMap { $0["id"] as? String } == [reviewing])
            let page = try await desk.json("sec", ["list", "--limit", "1", "--after", adopted]) as? [[String: Any]]
            #expect(page?.compactMap { $0["id"] as? String } == [reviewing])

            let show = try await desk.json("sec", ["show", adopted]) as? [String: Any]
            #expect(Set(show?.keys.map { $0 } ?? []) == ["item", "reviews", "endorsements", "milestones", "history"])
            #expect((show?["item"] as? [String: Any])?["state"] as? String == "adopted")
            #expect((show?["history"] as? [Any])?.count == 5)
            // Reviews are those of the current round: the paper under review has bruno's, pending.
            let underReview = try await desk.json("sec", ["show", reviewing]) as? [String: Any]
            #expect((underReview?["reviews"] as? [[String: Any]])?.compactMap { $0["reviewer"] as? String } == ["bruno"])
            let shown = try await desk.run("sec", ["show", reviewing])
            #expect(shown.stdout.contains("reviewers") && shown.stdout.contains("not voted"), "\(shown.stdout)")

            let history = try await desk.json("sec", ["history", adopted]) as? [[String: Any]]
            #expect(history?.first?["type"] as? String == "created" && history?.last?["to"] as? String == "adopted")
            #expect(history?.compactMap { $0["version"] as? Int } == Array(1...(history?.count ?? 0)))

            let waiting = try await desk.json("sec", ["waiting"]) as? [[String: Any]]
            #expect(waiting?.first { $0["item"] as? String == reviewing }?["waiting_on"] as? [String] == ["bruno"])
            let waitingCSV = try await desk.run("sec", ["waiting", "--for", "bruno", "--format", "csv"])
            #expect(waitingCSV.stdout.hasPrefix("item,state,waiting_on,since,due_at\n\(reviewing),peer-review,bruno,"), "\(waitingCSV.stdout)")
            let overdue = try await desk.run("sec", ["overdue"])
            #expect(overdue.status == 0 && overdue.stdout == "nothing is overdue\n")
            let cycle = try await desk.run("sec", ["report", "cycle", "--format", "csv"])
            #expect(cycle.stdout.hasPrefix("workflow,state,entered,median_s,p90_s\n") && cycle.stdout.contains("policy-paper,drafting,2,"), "\(cycle.stdout)")

            let md = try await desk.run("sec", ["export", adopted])
            #expect(md.status == 0)
            #expect(md.stdout.hasPrefix("# Green public procurement in member cities\n"))
            #expect(md.stdout.contains("> Buying green across the section") && md.stdout.contains("Cities buy green."))
            #expect(md.stdout.contains("Endorsed by 3 member governments") && md.stdout.contains("| Алматы | rep-almaty |") && md.stdout.contains("| თბილისი |"))
            let html = try await desk.run("sec", ["export", adopted, "--format", "html", "--output", desk.home + "/paper.html"])
            #expect(html.status == 0)
            let page2 = try String(contentsOfFile: desk.home + "/paper.html", encoding: .utf8)
            #expect(page2.contains("<meta charset=\"utf-8\">") && page2.contains("<td>Казань</td>") && page2.contains("<h1>Green public procurement in member cities</h1>"))
            let early = try await desk.run("sec", ["export", reviewing])
            #expect(early.status == 65 && early.oneLineError && early.stderr.contains("--draft"))
        }
    }

    @Test("watch prints one line per event as it happens, and JSON lines with --json")
    func watch() async throws {
        try await Desk.with { desk in
            let id = try await EurasiaSection.submittedPaper(desk)
            // Watchers get what is numbered after they subscribe, and an event is numbered
            // once every older transaction has ended, here those of other suites on the same
            // cluster too: wait until the paper's events are numbered, so none of them can be
            // the first a watcher sees.
            for _ in 0..<300 {
                let history = try await desk.server.withClient { c in try await c.call("ITEM.HISTORY", id).arrayValue ?? [] }
                if let last = history.last, last["seq"]?.intValue != nil { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            async let text = desk.run("sec", ["watch", "--item", id, "--count", "2"])
            async let json = desk.run("sec", ["watch", "--json", "--count", "1"])
            // Wait until both watchers are subscribed.
            for _ in 0..<100 {
                let info = try await desk.server.withClient { c in try await c.call("INFO", "clients").stringValue ?? "" }
                if info.contains("watchers:2") { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(try await desk.run("ana", ["comment", id, "first note"]).status == 0)
            #expect(try await desk.run("dilnoza", ["do", id, "send-back", "-m", "needs figures"]).status == 0)
            let (t, j) = try await (text, json)
            #expect(t.status == 0, "\(t.stderr)")
            let lines = t.stdout.split(separator: "\n")
            #expect(lines.count == 2)
            #expect(lines.first?.contains("comment") == true && lines.first?.contains("“first note”") == true, "\(t.stdout)")
            #expect(lines.last?.contains("send-back: peer-review → drafting") == true, "\(t.stdout)")
            let event = try JSONSerialization.jsonObject(with: Data(j.stdout.utf8)) as? [String: Any]
            #expect(event?["item"] as? String == id && event?["type"] as? String == "comment")
            #expect(j.stdout.split(separator: "\n").count == 1)
        }
    }
}
