import DocketTestSupport
import Foundation
import Testing

@Suite("docket: connecting and logging in", .timeLimit(.minutes(10)))
struct ConnectionCommandTests {
    @Test("no token anywhere: one line naming docket login, exit 77")
    func noToken() async throws {
        try await Desk.with(section: false) { desk in
            let r = try await desk.run(nil, ["status"])
            #expect(r.status == 77)
            #expect(r.oneLineError, "\(r.stderr)")
            #expect(r.stderr.contains("docket login"))
        }
    }

    @Test("a wrong token is WRONGPASS, exit 77; a server that is not there is exit 69; a bad address is exit 64")
    func failures() async throws {
        try await Desk.with(section: false) { desk in
            let wrong = try await desk.run(nil, ["status"], extra: ["DOCKET_USER": "admin", "DOCKET_TOKEN": "dkt_nope"])
            #expect(wrong.status == 77 && wrong.oneLineError && wrong.stderr.hasPrefix("docket: WRONGPASS"), "\(wrong.stderr)")
            let gone = try await desk.run("admin", ["status", "--server", "127.0.0.1:1"])
            #expect(gone.status == 69 && gone.oneLineError, "\(gone.stderr)")
            #expect(gone.stderr.contains("docket serve"))
            let bad = try await desk.run("admin", ["status", "--server", "not an address"])
            #expect(bad.status == 64 && bad.oneLineError, "\(bad.stderr)")
        }
    }

    @Test("against a local server the admin token is found in --data-dir or DOCKET_DATA_DIR")
    func localAdminToken() async throws {
        try await Desk.with(section: false) { desk in
            let dir = desk.home + "/served"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try (desk.server.adminToken + "\n").write(toFile: dir + "/admin.token", atomically: true, encoding: .utf8)
            let viaFlag = try await desk.run(nil, ["whoami", "--json", "--data-dir", dir])
            #expect(viaFlag.status == 0, "\(viaFlag.stderr)")
            #expect(viaFlag.stdout.contains("\"user\": \"admin\""))
            let viaEnv = try await desk.run(nil, ["whoami"], extra: ["DOCKET_DATA_DIR": dir])
            #expect(viaEnv.status == 0 && viaEnv.stdout.hasPrefix("admin"), "\(viaEnv.stderr)")
            // .docket in a parent of the current directory, when no data directory is named.
            let project = desk.home + "/project"
            try FileManager.default.createDirectory(atPath: project + "/.docket", withIntermediateDirectories: true)
            try FileManager.default.createDirectory(atPath: project + "/docs", withIntermediateDirectories: true)
            try desk.server.adminToken.write(toFile: project + "/.docket/admin.token", atomically: true, encoding: .utf8)
            var env = desk.environment(nil)
            env["DOCKET_DATA_DIR"] = ""
            let nested = try await CLI.docket(["whoami"], in: project + "/docs", environment: env)
            #expect(nested.status == 0 && nested.stdout.hasPrefix("admin"), "\(nested.stderr)")
        }
    }

    @Test("login stores server, user and token with mode 0600; later commands use them; logout forgets")
    func login() async throws {
        try await Desk.with { desk in
            let token = try #require(desk.tokens["ana"])
            let server = "127.0.0.1:\(desk.server.port)"
            let noEnv = ["DOCKET_SERVER": "", "DOCKET_USER": "", "DOCKET_TOKEN": ""]
            let r = try await desk.run(nil, ["login", "--server", server, "--user", "ana"], stdin: token + "\n", extra: noEnv)
            #expect(r.status == 0, "\(r.stderr)")
            #expect(r.stdout.contains("logged in to \(server) as ana (Ana Petrova)"))
            let path = desk.home + "/config/docket/config.json"
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            let stored = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
            #expect(stored?["server"] as? String == server && stored?["user"] as? String == "ana" && stored?["token"] as? String == token)
            let me = try await desk.run(nil, ["whoami"], extra: noEnv)
            #expect(me.status == 0 && me.stdout.hasPrefix("ana (Ana Petrova)"), "\(me.stderr)")
            // Another user on the command line does not borrow ana's token.
            let other = try await desk.run(nil, ["whoami", "--user", "bruno"], extra: noEnv)
            #expect(other.status == 77 && other.oneLineError)
            // A wrong token is refused and nothing is stored.
            let refused = try await desk.run(nil, ["login", "--server", server, "--user", "bruno", "--token", "dkt_wrong"], extra: noEnv)
            #expect(refused.status == 77)
            #expect(try String(contentsOfFile: path, encoding: .utf8).contains("\"ana\""))
            let out = try await desk.run(nil, ["logout"], extra: noEnv)
            #expect(out.status == 0 && !FileManager.default.fileExists(atPath: path))
        }
    }
}
