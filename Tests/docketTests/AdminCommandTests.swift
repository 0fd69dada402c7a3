import DocketTestSupport
import Foundation
import Testing

@Suite("docket: the directory, for admins", .timeLimit(.minutes(10)))
struct AdminCommandTests {
    @Test("members, users, roles, groups, themes, tokens")
    func directory() async throws {
        try await Desk.with(section: false) { desk in
            #expect(try await desk.run("admin", ["member", "add", "yerevan", "Երևան", "--kind", "city", "--country", "AM", "--section", "Eurasia"]).status == 0)
            let members = try await desk.json("admin", ["member", "list"]) as? [[String: Any]]
            #expect(members?.first?["name"] as? String == "Երևան" && members?.first?["country"] as? String == "AM")
            let dup = try await desk.run("admin", ["member", "add", "yerevan", "Again"])
            #expect(dup.status == 65 && dup.oneLineError)

            #expect(try await desk.run("admin", ["theme", "add", "culture", "Culture in sustainable cities"]).status == 0)
            let themes = try await desk.json("admin", ["theme", "list"]) as? [[String: Any]]
            #expect(Set(themes?.compactMap { $0["slug"] as? String } ?? []) == ["culture", "gender-equity", "local-innovation", "sustainability"])
            #expect(try await desk.run("admin", ["group", "add", "culture-wg", "Culture working group", "--theme", "culture"]).status == 0)
            let groups = try await desk.json("admin", ["group", "list"]) as? [[String: Any]]
            #expect(groups?.first?["themes"] as? [String] == ["culture"])

            let added = try await desk.run("admin", ["user", "add", "anahit", "Անահիտ Սարգսյան", "--member", "yerevan", "--with-token"])
            #expect(added.status == 0, "\(added.stderr)")
            let token = added.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(token.hasPrefix("dkt_"), "\(added.stdout)")
            #expect(try await desk.run("admin", ["user", "grant", "anahit", "drafter", "--group", "culture-wg"]).status == 0)
            #expect(try await desk.run("admin", ["user", "add", "aigul", "Айгуль Сафина", "--role", "secretariat"]).status == 0)
            let users = try await desk.json("admin", ["user", "list"]) as? [[String: Any]]
            let anahit = users?.first { $0["handle"] as? String == "anahit" }
            #expect(anahit?["member"] as? String == "yerevan")
            #expect((anahit?["groups"] as? [String])?.contains { $0.contains("culture-wg") } == true, "\(String(describing: anahit))")
            let table = try await desk.run("admin", ["user", "list"])
            #expect(table.stdout.hasPrefix("HANDLE") && table.stdout.contains("Айгуль Сафина"))

            // The new user works with the printed token; a non-admin cannot change the directory.
            let me = try await desk.run(nil, ["whoami"], extra: ["DOCKET_USER": "anahit", "DOCKET_TOKEN": token])
            #expect(me.stdout.hasPrefix("anahit (Անահիտ Սարգսյան), representing yerevan"), "\(me.stdout)\(me.stderr)")
            let denied = try await desk.run(nil, ["member", "add", "x", "X"], extra: ["DOCKET_USER": "anahit", "DOCKET_TOKEN": token])
            #expect(denied.status == 77 && denied.oneLineError && denied.stderr.hasPrefix("docket: NOPERM"))
            #expect(try await desk.run("admin", ["user", "revoke", "anahit", "drafter", "--group", "culture-wg"]).status == 0)
            let badRole = try await desk.run("admin", ["user", "grant", "anahit", "emperor"])
            #expect(badRole.status == 65 && badRole.oneLineError)

            let second = try await desk.run("admin", ["token", "create", "anahit"])
            #expect(second.stdout.hasPrefix("dkt_"))
            #expect(try await desk.json("admin", ["token", "revoke", "anahit"]) as? Int == 2)
            let revoked = try await desk.run(nil, ["whoami"], extra: ["DOCKET_USER": "anahit", "DOCKET_TOKEN": token])
            #expect(revoked.status == 77)
        }
    }

    @Test("member import: every good row is imported, each bad one reported with its line number")
    func importCSV() async throws {
        try await Desk.with(section: false) { desk in
            #expect(try await desk.run("admin", ["member", "add", "kazan", "Казань"]).status == 0)
            let csv = [
                "slug,name,kind,country,section",
                "almaty,Алматы,metropolis,KZ,Eurasia",
                "Bad Slug,Nowhere,city,KZ,Eurasia",
                "tbilisi,\"თბილისი, დედაქალაქი\",city,ge,Eurasia",
                ",No slug,city,KZ,Eurasia",
                "kazan,Казань,city,RU,Eurasia",
                "kutaisi,ქუთაისი,town,GE,Eurasia",
                "short,row",
                "\"yerevan\",\"Երևան \"\"the pink city\"\"\",city,AM,Eurasia",
                "almaty,Алматы again,city,KZ,Eurasia",
                "gyumri,Գյումրի,city,Armenia,Eurasia",
                "",
            ].joined(separator: "\r\n")
            let path = desk.home + "/members.csv"
            try csv.write(toFile: path, atomically: true, encoding: .utf8)
            let r = try await desk.run("admin", ["member", "import", path])
            #expect(r.status == 65)
            #expect(r.stdout == "imported 3 members; 7 rows refused (listed above with their line numbers)\n", "\(r.stdout)")
            let errors = r.stderr.split(separator: "\n").map(String.init)
            #expect(errors.count == 7, "\(r.stderr)")
            #expect(errors.map { $0.split(separator: ":")[1] } == ["3", "5", "6", "7", "8", "10", "11"], "\(errors)")
            #expect(errors[0] == "\(path):3: slug 'Bad Slug' must be lowercase letters, digits and dashes")
            #expect(errors[2] == "\(path):6: member kazan already exists")
            #expect(errors[4] == "\(path):8: 2 fields, the header has 5")
            #expect(errors[5] == "\(path):10: slug 'almaty' already on line 2")
            let members = try await desk.json("admin", ["member", "list"]) as? [[String: Any]]
            #expect(members?.compactMap { $0["slug"] as? String } == ["almaty", "kazan", "tbilisi", "yerevan"])
            #expect(members?.first { $0["slug"] as? String == "tbilisi" }?["name"] as? String == "თბილისი, დედაქალაქი")
            #expect(members?.first { $0["slug"] as? String == "tbilisi" }?["country"] as? String == "GE")
            #expect(members?.first { $0["slug"] as? String == "yerevan" }?["name"] as? String == "Երևան \"the pink city\"")

            let json = try await desk.run("admin", ["member", "import", "-", "--dry-run", "--json"], stdin: "slug,name\nnew-town,New Town\nBAD,x\n")
            let report = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
            #expect(report?["imported"] as? Int == 0 && report?["dry_run"] as? Bool == true)
            #expect((report?["errors"] as? [[String: Any]])?.first?["line"] as? Int == 3)
            let header = try await desk.run("admin", ["member", "import", "-"], stdin: "slug,name,mayor\na,b,c\n")
            #expect(header.status == 65 && header.oneLineError && header.stderr.contains("unknown column 'mayor'"))
        }
    }

    @Test("workflow list and show over the server; check and graph still work offline")
    func workflows() async throws {
        try await Desk.with(section: false) { desk in
            let list = try await desk.json("admin", ["workflow", "list"]) as? [[String: Any]]
            #expect(list?.compactMap { $0["name"] as? String } == ["membership-application", "policy-paper", "thematic-project"])
            let show = try await desk.run("admin", ["workflow", "show", "paper"])
            #expect(show.stdout.contains("workflow: policy-paper") && show.stdout.contains("prefix: PP"), "\(show.stdout)")
            let missing = try await desk.run("admin", ["workflow", "show", "nope"])
            #expect(missing.status == 66 && missing.oneLineError)
            let check = try await CLI.docket(["workflow", "check"], in: TestDatabase.packageRoot.path)
            #expect(check.status == 0)
        }
    }
}
