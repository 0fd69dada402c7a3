import DocketClient
import DocketTestSupport
import DocketWire
import Foundation
import Testing

/// The admin server driven by the stock `redis-cli`, in RESP2 and (`-3`) RESP3.
@Suite("redis-cli against the admin server", .timeLimit(.minutes(10)))
struct RedisCLITests {
    /// `-3` for RESP3, nothing for RESP2.
    static func protocolFlag(_ resp3: Bool) -> [String] { resp3 ? ["-3"] : [] }

    @Test("PING answers PONG before and after AUTH", arguments: [false, true])
    func ping(resp3: Bool) async throws {
        try await TestServer.with { server in
            let anonymous = try RedisCLI(port: server.port)
            let before = try await anonymous.run("PING")
            #expect(before.status == 0)
            #expect(before.stdout == "PONG\n")
            let admin = try RedisCLI(port: server.port, user: "admin", token: server.adminToken, extra: Self.protocolFlag(resp3))
            let after = try await admin.run("PING")
            #expect(after.stdout == "PONG\n")
            #expect(after.stderr == "")
            let echoed = try await admin.run("PING", "hello docket")
            #expect(echoed.stdout == "hello docket\n")
        }
    }

    @Test("HELLO 3 answers the documented map; -3 shows it as a RESP3 map")
    func hello() async throws {
        try await TestServer.with { server in
            let resp3 = try RedisCLI(port: server.port, user: "admin", token: server.adminToken, extra: ["-3", "--no-raw"])
            let out = try await resp3.run("HELLO", "3")
            #expect(out.status == 0)
            let lines = RedisCLI.lines(out.stdout)
            #expect(lines.count == 7, "\(out.stdout)")
            #expect(lines[0] == #"1# "server" => "docket""#)
            #expect(lines[1].hasPrefix(#"2# "version" => ""#))
            #expect(lines[2] == #"3# "proto" => (integer) 3"#)
            #expect(lines[3].hasPrefix(#"4# "id" => (integer) "#))
            #expect(lines[4] == #"5# "mode" => "standalone""#)
            #expect(lines[5] == #"6# "role" => "master""#)
            #expect(lines[6] == #"7# "modules" => (empty array)"#)

            // HELLO 2 answers the same fields as a flat array.
            let resp2 = try RedisCLI(port: server.port, user: "admin", token: server.adminToken, extra: ["--no-raw"])
            let flat = RedisCLI.lines(try await resp2.run("HELLO", "2").stdout)
            #expect(flat.count == 14)
            #expect(flat.first == #" 1) "server""#)
            #expect(flat.contains(#" 2) "docket""#))
            #expect(flat.contains(#" 6) (integer) 2"#))
            #expect(flat.contains(#"10) "standalone""#))
            #expect(flat.last == "14) (empty array)")

            // HELLO 3 AUTH authenticates and switches in one step.
            let anonymous = try RedisCLI(port: server.port)
            let inline = try await anonymous.run(["HELLO", "3", "AUTH", "admin", server.adminToken, "SETNAME", "desk"])
            // Raw output of a RESP3 map: one "key value" line per entry.
            let entries = RedisCLI.lines(inline.stdout)
            #expect(entries.first == "server docket")
            #expect(entries.contains("proto 3"))
            #expect(try await anonymous.run(["HELLO", "3", "AUTH", "admin", "wrong"]).stdout.hasPrefix("WRONGPASS "))
        }
    }

    @Test("AUTH user token then WHOAMI, fed on stdin", arguments: [false, true])
    func authThenWhoami(resp3: Bool) async throws {
        try await TestServer.with { server in
            try await server.withClient { admin in try await EurasiaSection.setUp(admin) }
            let ana = try await server.store.createToken(for: "ana")
            let cli = try RedisCLI(port: server.port, extra: ["--no-raw"])
            let hello = resp3 ? "HELLO 3\n" : ""
            let out = try await cli.run([], stdin: "AUTH ana \(ana)\n\(hello)WHOAMI\n")
            #expect(out.status == 0)
            let lines = RedisCLI.lines(out.stdout)
            #expect(lines.first == "OK")
            if resp3 {
                #expect(lines.contains(#"1# "user" => "ana""#), "\(out.stdout)")
                #expect(lines.contains(#"2# "name" => "Ana Petrova""#))
                #expect(lines.contains(#"3# "member" => (nil)"#))
                #expect(lines.contains(#"4# "roles" => 1) "sustainability-wg:drafter""#))
            } else {
                #expect(Array(lines.dropFirst()) == [
                    #"1) "user""#, #"2) "ana""#, #"3) "name""#, #"4) "Ana Petrova""#, #"5) "member""#, "6) (nil)",
                    #"7) "roles""#, #"8) 1) "sustainability-wg:drafter""#,
                ], "\(out.stdout)")
            }

            // --user/--pass does the same AUTH before the command.
            let direct = try RedisCLI(port: server.port, user: "ana", token: ana, extra: Self.protocolFlag(resp3))
            let whoami = RedisCLI.lines(try await direct.run("WHOAMI").stdout)
            #expect(Array(whoami.prefix(resp3 ? 1 : 2)) == (resp3 ? ["user ana"] : ["user", "ana"]))
        }
    }

    @Test("a bad token is WRONGPASS and leaves the connection unauthenticated", arguments: [false, true])
    func wrongPass(resp3: Bool) async throws {
        try await TestServer.with { server in
            let bad = try RedisCLI(port: server.port, user: "admin", token: "not-the-token", extra: Self.protocolFlag(resp3))
            let out = try await bad.run("WHOAMI")
            #expect(out.stderr.contains("AUTH failed: WRONGPASS invalid username-token pair"), "\(out.stderr)")
            #expect(out.stdout.hasPrefix("NOAUTH "), "\(out.stdout)")

            let cli = try RedisCLI(port: server.port, extra: ["--no-raw"])
            let typed = try await cli.run([], stdin: "AUTH admin not-the-token\nAUTH nobody \(server.adminToken)\nWHOAMI\n")
            #expect(RedisCLI.lines(typed.stdout) == [
                "(error) WRONGPASS invalid username-token pair or user is disabled.",
                "(error) WRONGPASS invalid username-token pair or user is disabled.",
                "(error) NOAUTH Authentication required: AUTH user token",
            ])
        }
    }

    @Test("every command but PING, HELLO, AUTH and QUIT needs AUTH first")
    func noAuth() async throws {
        try await TestServer.with { server in
            let cli = try RedisCLI(port: server.port, extra: ["--no-raw"])
            for command in [["WHOAMI"], ["ITEM.GET", "PP-1"], ["ITEM.LIST"], ["INFO"], ["MEMBER.ADD", "x", "X"], ["EVENTS.READ"]] {
                let out = try await cli.run(command)
                // redis-cli always prints INFO raw, errors included.
                let shown = command == ["INFO"] ? "" : "(error) "
                #expect(out.stdout == "\(shown)NOAUTH Authentication required: AUTH user token\n", "\(command): \(out.stdout)")
            }
            // HELLO 3 without AUTH is refused like Redis with requirepass; PING still works.
            let hello = try await cli.run("HELLO", "3")
            #expect(hello.stdout.hasPrefix("(error) NOAUTH HELLO must be called with AUTH"), "\(hello.stdout)")
            #expect(try await cli.run("PING").stdout == "PONG\n")
        }
    }

    @Test("ITEM.CREATE and ITEM.GET print the item map", arguments: [false, true])
    func createAndGet(resp3: Bool) async throws {
        try await TestServer.with { server in
            try await server.withClient { admin in try await EurasiaSection.setUp(admin) }
            let ana = try await server.store.createToken(for: "ana")
            let cli = try RedisCLI(port: server.port, user: "ana", token: ana, extra: Self.protocolFlag(resp3))
            let created = try await cli.run(["ITEM.CREATE", "policy-paper", "Cycling lanes in Almaty", "THEME", "sustainability",
                                             "GROUP", "sustainability-wg", "FIELD", "summary", "Safe lanes for everyone"])
            #expect(created.status == 0)
            let lines = RedisCLI.lines(created.stdout)
            if resp3 {
                // Raw output of a RESP3 map: one "key value" line per entry, nested arrays one element a line.
                #expect(Array(lines.prefix(8)) == [
                    "id PP-1", "workflow policy-paper", "workflow_version 1", "title Cycling lanes in Almaty",
                    "theme sustainability", "group sustainability-wg", "state drafting", "version 1",
                ], "\(created.stdout)")
                #expect(lines.contains("author ana") && lines.contains("final (false)"))
                #expect(lines.contains("fields summary Safe lanes for everyone"))
                #expect(lines.suffix(2) == ["transitions submit", "withdraw"])
            } else {
                // Raw output of a RESP2 map (a flat array): key and value on alternate lines.
                #expect(Array(lines.prefix(16)) == [
                    "id", "PP-1", "workflow", "policy-paper", "workflow_version", "1", "title", "Cycling lanes in Almaty",
                    "theme", "sustainability", "group", "sustainability-wg", "state", "drafting", "version", "1",
                ], "\(created.stdout)")
                #expect(lines.contains("author") && lines.contains("ana"))
                #expect(lines.suffix(3) == ["transitions", "submit", "withdraw"])
            }

            let pretty = try RedisCLI(port: server.port, user: "ana", token: ana, extra: Self.protocolFlag(resp3) + ["--no-raw"])
            let got = RedisCLI.lines(try await pretty.run("ITEM.GET", "PP-1").stdout)
            if resp3 {
                #expect(got.first == #" 1# "id" => "PP-1""#, "\(got)")
                #expect(got.contains(#"13# "final" => (false)"#))
                #expect(got.contains(#"14# "fields" => 1# "summary" => "Safe lanes for everyone""#))
                #expect(got.suffix(3) == [#"15# "transitions" => "#, #"    1) "submit""#, #"    2) "withdraw""#])
            } else {
                #expect(got.first == #" 1) "id""#, "\(got)")
                #expect(got.contains(#" 2) "PP-1""#))
                #expect(got.contains(#"26) (integer) 0"#))
                #expect(got.contains(#"28) 1) "summary""#))
                #expect(got.contains(#"30) 1) "submit""#))
            }
        }
    }

    @Test("error replies print as (error) with their class first", arguments: [false, true])
    func errors(resp3: Bool) async throws {
        try await TestServer.with { server in
            try await server.withClient { admin in try await EurasiaSection.setUp(admin) }
            let omar = try await server.store.createToken(for: "omar")
            let admin = try RedisCLI(port: server.port, user: "admin", token: server.adminToken, extra: Self.protocolFlag(resp3) + ["--no-raw"])
            #expect(try await admin.run("ITEM.GET", "PP-404").stdout == "(error) NOTFOUND item PP-404 not found\n")
            #expect(try await admin.run("FROBNICATE", "x").stdout == "(error) ERR unknown command 'FROBNICATE' 'x'\n")
            #expect(try await admin.run("ITEM.GET").stdout == "(error) ERR wrong number of arguments for 'item.get' command\n")
            #expect(try await admin.run("WORKFLOW.GET", "no-such-flow").stdout.hasPrefix("(error) NOTFOUND workflow"))
            let denied = try await admin.run("ITEM.CREATE", "policy-paper", "Admins do not draft")
            #expect(denied.stdout.hasPrefix("(error) DENIED role: creating a policy paper needs one of"), "\(denied.stdout)")
            let plain = try RedisCLI(port: server.port, user: "omar", token: omar, extra: Self.protocolFlag(resp3) + ["--no-raw"])
            let noPerm = try await plain.run("USER.ADD", "mallory", "Mallory")
            #expect(noPerm.stdout == "(error) NOPERM USER.ADD needs the admin role\n")
            // Raw mode (what scripts see) prints the bare error line.
            let raw = try RedisCLI(port: server.port, user: "admin", token: server.adminToken, extra: Self.protocolFlag(resp3))
            #expect(try await raw.run("ITEM.GET", "PP-404").stdout == "NOTFOUND item PP-404 not found\n\n")
        }
    }

    @Test("several commands on stdin are answered in order", arguments: [false, true])
    func stdinPipeline(resp3: Bool) async throws {
        try await TestServer.with { server in
            try await server.withClient { admin in try await EurasiaSection.setUp(admin) }
            let ana = try await server.store.createToken(for: "ana")
            let cli = try RedisCLI(port: server.port, user: "ana", token: ana, extra: Self.protocolFlag(resp3))
            var script = "ITEM.CREATE policy-paper \"Bike share\" GROUP sustainability-wg\n"
            for n in 1...20 { script += "ITEM.COMMENT PP-1 \"note \(n)\"\n" }
            script += "PING last\nITEM.GET PP-2\nITEM.HISTORY PP-1\n"
            let out = try await cli.run([], stdin: script)
            #expect(out.status == 0)
            let lines = RedisCLI.lines(out.stdout)
            // RESP3 raw output prints "key value" lines; RESP2 alternates key and value lines.
            func values(_ key: String) -> [String] {
                resp3 ? lines.filter { $0.hasPrefix(key + " ") }.map { String($0.dropFirst(key.count + 1)) }
                      : lines.indices.dropLast().filter { lines[$0] == key }.map { lines[$0 + 1] }
            }
            #expect(values("id") == ["PP-1"])
            #expect(values("type").filter { $0 == "comment" }.count == 40, "20 comment events, then 20 more in the history")
            #expect(values("type").filter { $0 == "created" }.count == 1)
            let last = try #require(lines.firstIndex(of: "last"))
            #expect(lines[last + 1] == "NOTFOUND item PP-2 not found")
            let versions = values("version")
            // The create, 20 comments and a history of 21 events, every version in order.
            let expected: [String] = ["1"] + (2...21).map { String($0) } + (1...21).map { String($0) }
            #expect(versions == expected)
        }
    }

    @Test("redis-cli --pipe: raw protocol in, reply and error counts out")
    func pipeMode() async throws {
        try await TestServer.with { server in
            try await server.withClient { admin in try await EurasiaSection.setUp(admin) }
            let ana = try await server.store.createToken(for: "ana")
            let id = try await server.withClient(user: "ana", token: ana) { c in
                try await c.call("ITEM.CREATE", "policy-paper", "Heat plans", "GROUP", "sustainability-wg")["id"]?.stringValue ?? ""
            }
            func command(_ words: String...) -> String {
                "*\(words.count)\r\n" + words.map { "$\($0.utf8.count)\r\n\($0)\r\n" }.joined()
            }
            var input = ""
            for n in 1...50 { input += command("ITEM.COMMENT", id, "comment \(n)") }
            input += command("PING")
            let cli = try RedisCLI(port: server.port, user: "ana", token: ana)
            let out = try await cli.run(["--pipe"], stdin: input, limit: 25)
            #expect(out.status == 0, "\(out.stdout)\(out.stderr)")
            #expect(out.stdout.contains("errors: 0, replies: 51"), "\(out.stdout)")
            let history = try await server.withClient(user: "ana", token: ana) { c in try await c.call("ITEM.HISTORY", id).arrayValue ?? [] }
            #expect(history.count == 51)
            #expect(history.last?["comment"]?.stringValue == "comment 50")

            let withErrors = try await cli.run(["--pipe"], stdin: command("ITEM.GET", "PP-999") + command("PING") + command("NOPE"), limit: 25)
            #expect(withErrors.status == 1)
            #expect(withErrors.stdout.contains("errors: 2, replies: 3"), "\(withErrors.stdout)")
        }
    }

    @Test("INFO server lists the server section with the bound port", arguments: [false, true])
    func info(resp3: Bool) async throws {
        try await TestServer.with { server in
            let cli = try RedisCLI(port: server.port, user: "admin", token: server.adminToken, extra: Self.protocolFlag(resp3))
            let out = try await cli.run("INFO", "server")
            #expect(out.status == 0)
            let lines = RedisCLI.lines(out.stdout.replacingOccurrences(of: "\r", with: ""))
            #expect(lines.first == "# Server")
            #expect(lines.contains("mode:standalone"))
            #expect(lines.contains { $0.hasPrefix("docket_version:") })
            #expect(lines.contains("tcp_port:\(server.port)"), "\(lines)")
            #expect(lines.contains("process_id:\(ProcessInfo.processInfo.processIdentifier)"))
            #expect(!lines.contains("# Clients"))
            let all = try await cli.run("INFO")
            for section in ["# Server", "# Clients", "# Store", "# Stats"] { #expect(all.stdout.contains(section)) }
            #expect(all.stdout.contains("connected_clients:1"))
        }
    }
}
