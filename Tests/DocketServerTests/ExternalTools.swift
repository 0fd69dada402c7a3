import DocketTestSupport
import Foundation
import Testing

/// Stock programs the end-to-end tests drive: redis-cli, python3 with redis-py, openssl.
/// CI installs them (.ci/run); a missing one fails the test with the package to install.
enum Tool {
    /// The absolute path of `name` on PATH.
    static func path(_ name: String) -> String? {
        let dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":")
        for dir in dirs + ["/usr/local/bin", "/usr/bin", "/bin"] {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    static func require(_ name: String, install: String) throws -> String {
        try #require(path(name), "\(name) is not installed: \(install)")
    }

    static func redisCLI() throws -> String { try require("redis-cli", install: "apt-get install -y redis-tools") }
    static func openssl() throws -> String { try require("openssl", install: "apt-get install -y openssl") }

    /// python3 that can `import redis`.
    static func pythonWithRedis() async throws -> String {
        let python = try require("python3", install: "apt-get install -y python3")
        let check = try await CLI.run(python, ["-c", "import redis; print(redis.__version__)"])
        try #require(check.status == 0, "python3 lacks the redis package: python3 -m pip install redis\n\(check.stderr)")
        return python
    }
}

/// A scratch directory removed after `body`.
func withTemporaryDirectory<T: Sendable>(_ body: @Sendable (String) async throws -> T) async throws -> T {
    let path = NSTemporaryDirectory() + "docket-test-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try await body(path)
}

/// `redis-cli` pointed at a test server.
struct RedisCLI: Sendable {
    var executable: String
    var port: Int
    var user: String?
    var token: String?
    var extra: [String] = []

    init(port: Int, user: String? = nil, token: String? = nil, extra: [String] = []) throws {
        self.executable = try Tool.redisCLI()
        self.port = port
        self.user = user
        self.token = token
        self.extra = extra
    }

    var baseArguments: [String] {
        var args = ["-h", "127.0.0.1", "-p", String(port)]
        if let user, let token { args += ["--user", user, "--pass", token, "--no-auth-warning"] }
        return args + extra
    }

    /// Runs `redis-cli [options] args...`, or feeds `stdin` to it when given; killed after
    /// `limit` seconds so a hung client never outlives the test.
    func run(_ args: [String], stdin: String? = nil, limit: Int = 60) async throws -> CLI.Result {
        try await CLI.run(try Tool.require("timeout", install: "apt-get install -y coreutils"),
                          ["-s", "KILL", String(limit), executable] + baseArguments + args, stdin: stdin)
    }

    func run(_ args: String...) async throws -> CLI.Result { try await run(args) }

    /// The lines redis-cli printed, without trailing empty ones.
    static func lines(_ output: String) -> [String] {
        var lines = output.components(separatedBy: "\n")
        while lines.last == "" { lines.removeLast() }
        return lines
    }
}
