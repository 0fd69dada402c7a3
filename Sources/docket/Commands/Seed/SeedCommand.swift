import ArgumentParser
import DocketCore
import Foundation

struct SeedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed",
        abstract: "Fill an empty server with a realistic demo of the Eurasia section (admin).",
        discussion: """
            --demo creates 17 member cities, regions and associations (names in Cyrillic, Georgian,
            Armenian and Latin scripts), working groups for gender equity, sustainability and local
            innovation, 16 people with their roles, and policy papers, thematic projects and
            membership applications in every state a person can reach — each moved there through
            real transitions by the person whose job it is (drafters submit, reviewers vote,
            chairs accept, member representatives endorse, the secretariat adopts).

            Overdue items: the shipped workflows' dues are days and weeks, and the seed cannot
            move time, so it also loads a demo-only workflow, urgent-request, whose dues are
            seconds; two of its items are overdue a few seconds after seeding. To see how the
            real items will stand once their dues pass, ask for a later date:
            `docket status --as-of DATE`.

            Example: docket seed --demo
            """
    )

    @Flag(help: "Create the demo data set.")
    var demo = false

    @OptionGroup var connection: ConnectionOptions

    func validate() throws {
        if !demo { throw ValidationError("say what to seed: docket seed --demo") }
    }

    func run() async throws {
        try await connection.withSession { s in
            let existing = try await s.call("MEMBER.LIST").elements.map { $0.text("slug") }
            if existing.contains("kazan") {
                throw CLIFailure(.invalid, "this server already has the demo data (member kazan exists)",
                                 hint: "seed an empty server, e.g. `docket serve --data-dir /tmp/docket-demo` and `docket seed --demo --data-dir /tmp/docket-demo`")
            }
            // The demo workflow first: if the server refuses it, nothing has been created.
            try await s.call("WORKFLOW.LOAD", DemoData.urgentRequestWorkflow)
            var directory: [[String]] = []
            for m in DemoData.members {
                directory.append(MemberImport.command(slug: m.slug, name: m.name, kind: m.kind, country: m.country, section: "Eurasia"))
            }
            for g in DemoData.groups {
                directory.append(["GROUP.ADD", g.slug, g.name] + (g.theme.map { ["THEME", $0] } ?? []))
            }
            for p in DemoData.people {
                directory.append(["USER.ADD", p.handle, p.name] + (p.member.map { ["MEMBER", $0] } ?? []) + p.global.flatMap { ["ROLE", $0] })
                for grant in p.grants {
                    let parts = grant.split(separator: ":").map(String.init)
                    directory.append(["USER.GRANT", p.handle, parts[1], "GROUP", parts[0]])
                }
            }
            try await s.all(directory)
            Terminal.write("directory: \(DemoData.members.count) members, \(DemoData.groups.count) working groups, \(DemoData.people.count) people\n")

            let cast = DemoCast(settings: s.settings)
            await cast.add(s.user, token: s.settings.token)
            let tokens = try await s.all(DemoData.people.map { ["TOKEN.CREATE", $0.handle] })
            for (person, token) in zip(DemoData.people, tokens) { await cast.add(person.handle, token: token.stringValue ?? "") }

            let script = DemoScript(cast: cast)
            do {
                try await script.papers()
                try await script.projects()
                try await script.applications()
                try await script.urgentRequests()
            } catch {
                await cast.closeAll()
                throw error
            }
            await cast.closeAll()
            let counts = script.tally.created
            Terminal.write("items: \(counts["policy-paper"] ?? 0) policy papers, \(counts["thematic-project"] ?? 0) thematic projects, "
                + "\(counts["membership-application"] ?? 0) membership applications, \(counts["urgent-request"] ?? 0) urgent requests (demo timings)\n")
            Terminal.write("waiting 4s for the demo urgent requests to pass their due times…\n")
            try await Task.sleep(for: .seconds(4))
            let asOf = String(Timestamp.format(Date().addingTimeInterval(46 * 86_400)).prefix(10))
            let adopted = script.tally.adoptedPaper ?? "PP-1"
            let next: [(String, String)] = [
                ("docket status", "the board"),
                ("docket status --as-of \(asOf)", "the board in 46 days if nothing moves"),
                ("docket show \(adopted)", "an adopted paper and its endorsements"),
                ("docket export \(adopted) --format html", "the paper ready to publish"),
                ("docket token create anahit", "a token to act as one of the demo people (`docket user list`)"),
            ]
            let width = next.map { $0.0.count }.max() ?? 0
            Terminal.write("done. Next:\n" + next.map { "  " + $0.0 + String(repeating: " ", count: width - $0.0.count + 2) + $0.1 + "\n" }.joined())
        }
    }
}
