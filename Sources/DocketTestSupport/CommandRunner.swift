import DocketStore
import Foundation

/// Runs the built `docket` binary (or another program) and captures what it printed.
public enum CLI {
    /// `.build/<triple>/debug/docket`, next to the test bundle.
    public static var docketPath: String {
        var url = URL(fileURLWithPath: CommandLine.arguments[0])
        while url.pathExtension == "xctest" || url.lastPathComponent == "Contents" || url.lastPathComponent == "MacOS" {
            url.deleteLastPathComponent()
        }
        if !FileManager.default.fileExists(atPath: url.appendingPathComponent("docket").path) {
            url.deleteLastPathComponent()
        }
        return url.appendingPathComponent("docket").path
    }

    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// Runs `docket args...` in `directory` with extra environment variables.
    public static func docket(_ args: [String], in directory: String? = nil, environment: [String: String] = [:], stdin: String? = nil) async throws -> Result {
        try await run(docketPath, args, in: directory, environment: environment, stdin: stdin)
    }

    public static func run(_ executable: String, _ args: [String], in directory: String? = nil, environment: [String: String] = [:], stdin: String? = nil) async throws -> Result {
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        for (k, v) in environment { env[k] = v }
        var inputFile: String?
        if let stdin {
            let path = NSTemporaryDirectory() + "docket-stdin-\(UUID().uuidString)"
            try stdin.write(toFile: path, atomically: true, encoding: .utf8)
            inputFile = path
        }
        defer { if let inputFile { try? FileManager.default.removeItem(atPath: inputFile) } }
        let command = inputFile.map { ["/bin/sh", "-c", "exec \"$0\" \"$@\" < \(ProcessRunner.shellQuote($0))", executable] + args }
            ?? [executable] + args
        let output = try await ProcessRunner.run(command[0], Array(command.dropFirst()), environment: env, currentDirectory: directory, checkExitCode: false)
        return Result(status: output.exitCode, stdout: output.stdout, stderr: output.stderr)
    }
}
