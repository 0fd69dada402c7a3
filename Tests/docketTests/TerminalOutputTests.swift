import DocketTestSupport
import Foundation
import Testing

@Suite("docket: terminal, pipes, help", .timeLimit(.minutes(10)))
struct TerminalOutputTests {
    /// Runs `docket args` under a pseudo-terminal with `script`.
    func underTerminal(_ desk: Desk, _ args: [String], noColor: String = "") async throws -> CLI.Result {
        var env = desk.environment("sec")
        env["NO_COLOR"] = noColor
        env["TERM"] = "xterm-256color"
        let command = ([CLI.docketPath] + args).map { "'\($0)'" }.joined(separator: " ")
        return try await CLI.run("/usr/bin/script", ["-qec", command, "/dev/null"], in: desk.home, environment: env)
    }

    @Test("a terminal sees ANSI colour; a pipe and NO_COLOR see none")
    func colour() async throws {
        try await Desk.with { desk in
            _ = try await EurasiaSection.submittedPaper(desk)
            let tty = try await underTerminal(desk, ["status"])
            #expect(tty.status == 0, "\(tty.stdout)\(tty.stderr)")
            #expect(tty.stdout.contains("\u{1B}[1m"), "\(tty.stdout)")
            #expect(tty.stdout.contains("Policy paper"))
            let piped = try await desk.run("sec", ["status"], extra: ["NO_COLOR": ""])
            #expect(piped.status == 0 && !piped.stdout.contains("\u{1B}") && piped.stdout.contains("Policy paper"))
            let noColor = try await underTerminal(desk, ["status"], noColor: "1")
            #expect(noColor.status == 0 && !noColor.stdout.contains("\u{1B}["), "\(noColor.stdout)")
        }
    }

    @Test("tables align names in Cyrillic, Georgian and Armenian")
    func alignment() async throws {
        try await Desk.with(section: false) { desk in
            for (slug, name) in [("tbilisi", "თბილისი"), ("yerevan", "Երևան"), ("kazan", "Казань"), ("baku", "Bakı")] {
                #expect(try await desk.run("admin", ["member", "add", slug, name, "--country", "XX"]).status == 0)
            }
            let r = try await desk.run("admin", ["member", "list"])
            // Each of these letters takes one column, so KIND starts at the same character offset.
            let offsets = r.stdout.split(separator: "\n").map { line -> Int in
                let word = line.hasPrefix("SLUG") ? "KIND" : "city"
                guard let range = line.range(of: word) else { return -1 }
                return line.distance(from: line.startIndex, to: range.lowerBound)
            }
            #expect(offsets.count == 5 && Set(offsets).count == 1 && offsets[0] > 0, "\(r.stdout)")
        }
    }

    @Test("every command has help with an example; completion scripts generate")
    func help() async throws {
        let commands = [
            ["new"], ["edit"], ["revise"], ["text"], ["diff"], ["comment"], ["do"], ["why"], ["inbox"], ["review"], ["assign"],
            ["endorse"], ["unendorse"], ["status"], ["list"], ["show"], ["history"], ["waiting"], ["overdue"], ["report", "cycle"],
            ["watch"], ["export"], ["member", "add"], ["member", "list"], ["member", "import"], ["user", "add"], ["user", "list"],
            ["user", "grant"], ["user", "revoke"], ["group", "add"], ["group", "list"], ["theme", "add"], ["theme", "list"],
            ["token", "create"], ["token", "revoke"], ["workflow", "check"], ["workflow", "graph"], ["workflow", "list"],
            ["workflow", "show"], ["workflow", "load"], ["member"], ["user"], ["group"], ["theme"], ["token"], ["report"], ["milestone"], ["workflow"], ["milestone", "add"], ["milestone", "done"], ["milestone", "list"], ["seed"], ["login"], ["logout"], ["whoami"], ["serve"],
        ]
        for command in commands {
            let r = try await CLI.docket(["help"] + command)
            #expect(r.status == 0, "\(command)")
            #expect(r.stdout.contains("Example"), "docket \(command.joined(separator: " ")) --help has no example")
        }
        let bash = try await CLI.docket(["--generate-completion-script", "bash"])
        #expect(bash.status == 0 && bash.stdout.contains("_docket") && bash.stdout.contains("inbox"))
    }
}

@Suite("docket seed --demo", .timeLimit(.minutes(10)))
struct SeedCommandTests {
    @Test("fills an empty server with every reachable state through real transitions; refuses to run twice")
    func demo() async throws {
        try await Desk.with(section: false) { desk in
            let r = try await desk.run("admin", ["seed", "--demo"])
            #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
            let rows = try await desk.json("admin", ["status"]) as? [[String: Any]]
            var states: [String: Set<String>] = [:]
            for row in rows ?? [] { states[row["workflow"] as? String ?? "", default: []].insert(row["state"] as? String ?? "") }
            #expect(states["policy-paper"] == ["drafting", "peer-review", "secretariat-review", "endorsement", "adopted", "withdrawn"])
            #expect(states["thematic-project"] == ["proposal", "appraisal", "approval", "active", "reporting", "completed", "cancelled"])
            #expect(states["membership-application"] == ["received", "secretariat-check", "governing-body", "member", "declined"])
            let overdue = try await desk.json("admin", ["overdue"]) as? [[String: Any]]
            #expect(overdue?.count == 2 && overdue?.allSatisfy { $0["workflow"] as? String == "urgent-request" } == true)
            let members = try await desk.json("admin", ["member", "list"]) as? [[String: Any]]
            let names = members?.compactMap { $0["name"] as? String } ?? []
            #expect(names.contains("თბილისი") && names.contains("Երևան") && names.contains("Казань") && names.contains("Bakı"))
            let history = try await desk.json("admin", ["history", "PP-1"]) as? [[String: Any]] ?? []
            let actors = Set(history.compactMap { $0["actor"] as? String })
            #expect(actors.isSuperset(of: ["anahit", "nino", "giorgi", "timur", "aigul"]), "\(actors)")
            let audit = try await desk.server.withClient { c in try await c.call("AUDIT.VERIFY")["ok"]?.boolValue }
            #expect(audit == true)
            let again = try await desk.run("admin", ["seed", "--demo"])
            #expect(again.status == 65 && again.oneLineError)
        }
    }
}
