import DocketClient
import DocketServer
import DocketTestSupport
import DocketWire
import Foundation
import Testing

/// Runs the `docket` binary against a test server as one of the section's people.
struct Desk: Sendable {
    let server: TestServer
    /// An empty config and data directory, so no stored login or local token is picked up.
    let home: String
    let tokens: [String: String]

    /// Boots a server, sets up the Eurasia section, runs `body`, removes the temporary home.
    static func with<T: Sendable>(section: Bool = true, configure: @Sendable (inout ServerConfiguration) -> Void = { _ in },
                                  _ body: @Sendable (Desk) async throws -> T) async throws -> T {
        try await TestServer.with(configure: configure) { server in
            if section { try await server.withClient { admin in try await EurasiaSection.setUp(admin) } }
            var tokens = ["admin": server.adminToken]
            if section {
                for user in EurasiaSection.users { tokens[user] = try await server.store.createToken(for: user) }
            }
            let home = NSTemporaryDirectory() + "docket-cli-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: home + "/data", withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: home) }
            return try await body(Desk(server: server, home: home, tokens: tokens))
        }
    }

    /// The environment for `user` (nil: no user or token at all).
    func environment(_ user: String?, extra: [String: String] = [:]) -> [String: String] {
        var env = ["DOCKET_SERVER": "127.0.0.1:\(server.port)", "XDG_CONFIG_HOME": home + "/config",
                   "DOCKET_DATA_DIR": home + "/data", "HOME": home, "DOCKET_USER": "", "DOCKET_TOKEN": ""]
        if let user {
            env["DOCKET_USER"] = user
            env["DOCKET_TOKEN"] = tokens[user] ?? ""
        }
        for (k, v) in extra { env[k] = v }
        return env
    }

    /// `docket args...` as `user`, in the temporary home.
    func run(_ user: String?, _ args: [String], stdin: String? = nil, extra: [String: String] = [:]) async throws -> CLI.Result {
        try await CLI.docket(args, in: home, environment: environment(user, extra: extra), stdin: stdin)
    }

    /// Runs and parses stdout as JSON, expecting exit 0.
    func json(_ user: String?, _ args: [String], stdin: String? = nil, sourceLocation: SourceLocation = #_sourceLocation) async throws -> Any {
        let r = try await run(user, args + ["--json"], stdin: stdin)
        #expect(r.status == 0, "docket \(args.joined(separator: " ")): \(r.stderr)", sourceLocation: sourceLocation)
        return try JSONSerialization.jsonObject(with: Data(r.stdout.utf8), options: [.fragmentsAllowed])
    }
}

extension CLI.Result {
    /// Stderr is one line starting `docket: `.
    var oneLineError: Bool {
        stderr.hasPrefix("docket: ") && stderr.hasSuffix("\n") && stderr.dropLast().split(separator: "\n").count == 1
    }
}

extension EurasiaSection {
    /// A paper by ana, with a summary and one revision, submitted to peer review; its id.
    static func submittedPaper(_ desk: Desk, title: String = "Green public procurement in member cities") async throws -> String {
        let item = try await desk.json("ana", ["new", "paper", title, "--theme", "sustainability", "--group", "sustainability-wg"]) as? [String: Any]
        let id = try #require(item?["id"] as? String)
        #expect(try await desk.run("ana", ["edit", id, "summary=Buying green across the section"]).status == 0)
        #expect(try await desk.run("ana", ["revise", id, "-"], stdin: "# Green procurement\n\nCities buy green.\n").status == 0)
        #expect(try await desk.run("ana", ["do", id, "submit"]).status == 0)
        return id
    }

    /// A paper taken to endorsement: reviewed by bruno and chen, accepted, opened by sec.
    static func paperInEndorsement(_ desk: Desk, title: String = "Green public procurement in member cities") async throws -> String {
        let id = try await submittedPaper(desk, title: title)
        #expect(try await desk.run("dilnoza", ["assign", id, "bruno", "chen"]).status == 0)
        for reviewer in ["bruno", "chen"] { #expect(try await desk.run(reviewer, ["review", id, "approve"]).status == 0) }
        #expect(try await desk.run("dilnoza", ["do", id, "accept"]).status == 0)
        #expect(try await desk.run("sec", ["do", id, "open-endorsement"]).status == 0)
        return id
    }
}
