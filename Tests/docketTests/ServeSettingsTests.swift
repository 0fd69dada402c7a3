import DocketTestSupport
import Foundation
import Testing

/// `docket serve` settings: flag over environment over config file over default, shown by
/// `--print-config`; a bad file or value is one line on stderr and exit 64.
@Suite("docket serve settings")
struct ServeSettingsTests {
    static func withConfig<T: Sendable>(_ text: String, _ body: @Sendable (String) async throws -> T) async throws -> T {
        let path = NSTemporaryDirectory() + "docket-config-\(UUID().uuidString).yaml"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try await body(path)
    }

    /// `setting -> (value, source)` from the `--print-config` table.
    static func table(_ stdout: String) -> [String: (String, String)] {
        var out: [String: (String, String)] = [:]
        for line in stdout.split(separator: "\n") {
            let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            guard words.count >= 3 else { continue }
            out[words[0]] = (words[1..<(words.count - 1)].joined(separator: " "), words[words.count - 1])
        }
        return out
    }

    @Test("flags beat the environment, which beats the file, which beats the defaults")
    func precedence() async throws {
        let config = """
            listen: 0.0.0.0:7500
            pool-size: 5
            log-format: json
            db-timeout: 3
            database-url: postgres://docket:secret@db.example:5432/docket
            """
        try await Self.withConfig(config) { path in
            let r = try await CLI.docket(["serve", "--config", path, "--log-format", "text", "--print-config"],
                                         environment: ["DOCKET_POOL_SIZE": "7", "DOCKET_DB_TIMEOUT": "", "DOCKET_LISTEN": ""])
            #expect(r.status == 0, "\(r.stderr)")
            let t = Self.table(r.stdout)
            #expect(t["listen"]! == ("0.0.0.0:7500", "file"))
            #expect(t["pool-size"]! == ("7", "environment"))
            #expect(t["log-format"]! == ("text", "flag"))
            #expect(t["db-timeout"]! == ("3", "file"))
            #expect(t["max-connections"]! == ("10000", "default"))
            #expect(t["workflows"]! == ("Workflows", "default"))
            // The password never reaches the terminal.
            #expect(t["database-url"]! == ("postgres://docket:xxxxx@db.example:5432/docket", "file"))
            #expect(!r.stdout.contains("secret"))
        }
        // DOCKET_CONFIG names the file when --config is absent.
        try await Self.withConfig("max-connections: 42\n") { path in
            let r = try await CLI.docket(["serve", "--print-config", "--max-connections", "43"], environment: ["DOCKET_CONFIG": path])
            #expect(Self.table(r.stdout)["max-connections"]! == ("43", "flag"))
            let r2 = try await CLI.docket(["serve", "--print-config"], environment: ["DOCKET_CONFIG": path])
            #expect(Self.table(r2.stdout)["max-connections"]! == ("42", "file"))
        }
    }

    @Test("the example config in deploy/ is accepted")
    func deployExample() async throws {
        let path = TestDatabase.packageRoot.appendingPathComponent("deploy/docket.yaml").path
        let r = try await CLI.docket(["serve", "--config", path, "--print-config"], environment: ["DOCKET_DATA_DIR": ""])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(Self.table(r.stdout)["metrics-listen"]! == ("127.0.0.1:9433", "file"))
    }

    @Test("bad settings: one line naming the file, line or variable; exit 64", arguments: [
        ("nonsense: 1\n", [:], "1: unknown setting 'nonsense'"),
        ("listen: [a, b]\n", [:], "listen must be a single value"),
        ("listen: 'unclosed\n", [:], "not valid YAML"),
        ("- a list\n", [:], "expected `key: value` lines"),
        ("pool-size: many\n", [:], "pool-size must be a whole number of at least 1, not 'many' (from the config file)"),
        ("", ["DOCKET_MAX_CONNECTIONS": "0"], "max-connections must be a whole number of at least 1, not '0' (from DOCKET_MAX_CONNECTIONS)"),
        ("", ["DOCKET_LOG_FORMAT": "xml"], "log-format must be logfmt, json or text"),
        ("listen: nowhere\n", [:], "--listen nowhere must be HOST:PORT"),
    ] as [(String, [String: String], String)])
    func badSettings(file: String, environment: [String: String], message: String) async throws {
        try await Self.withConfig(file) { path in
            let r = try await CLI.docket(["serve", "--config", path, "--print-config"], environment: environment)
            #expect(r.status == 64, "\(r.stdout)")
            #expect(r.stderr.hasPrefix("docket: "), "\(r.stderr)")
            #expect(r.stderr.contains(message), "\(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
            #expect(r.stdout.isEmpty)
        }
    }

    @Test("a config file that cannot be read")
    func missingFile() async throws {
        let r = try await CLI.docket(["serve", "--config", "/nonexistent/docket.yaml"])
        #expect(r.status == 64)
        #expect(r.stderr == "docket: cannot read the config file /nonexistent/docket.yaml\n")
    }
}
