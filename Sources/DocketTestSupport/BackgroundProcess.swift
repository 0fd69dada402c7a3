import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A long-running child (such as `docket serve`) started in the background by a small shell
/// wrapper that records its pid and, once it exits, its exit status. Output goes to files in
/// `directory`, which the test polls. The wrapper itself is started through `CLI.run` (so it
/// inherits no descriptor but stdin/stdout/stderr) and returns at once.
public final class BackgroundProcess: Sendable {
    public let directory: String
    public let pid: pid_t

    private init(directory: String, pid: pid_t) {
        self.directory = directory
        self.pid = pid
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// Starts `command` (absolute path first) in `workingDirectory`.
    public static func start(_ command: [String], in workingDirectory: String, scratch directory: String,
                      environment: [String: String] = [:]) async throws -> BackgroundProcess {
        let script = #"""
            dir="$1"; shift
            (
                "$@" > "$dir/stdout" 2> "$dir/stderr" < /dev/null &
                echo $! > "$dir/pid.tmp" && mv "$dir/pid.tmp" "$dir/pid"
                wait $!
                echo $? > "$dir/status.tmp" && mv "$dir/status.tmp" "$dir/status"
            ) > /dev/null 2>&1 < /dev/null &
            """#
        let launched = try await CLI.run("/bin/sh", ["-c", script, "sh", directory] + command, in: workingDirectory, environment: environment)
        guard launched.status == 0 else { throw Failure(description: "the launcher failed: \(launched.stderr)") }
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOfFile: directory + "/pid", encoding: .utf8),
               let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                return BackgroundProcess(directory: directory, pid: pid)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw Failure(description: "\(command[0]) did not start within 10 s")
    }

    public var stdout: String { (try? String(contentsOfFile: directory + "/stdout", encoding: .utf8)) ?? "" }
    public var stderr: String { (try? String(contentsOfFile: directory + "/stderr", encoding: .utf8)) ?? "" }

    /// The exit status (128 + signal if killed), once it has exited.
    public var exitStatus: Int32? {
        (try? String(contentsOfFile: directory + "/status", encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// Polls stdout until a line satisfies `match`; nil if the process exits or time runs out first.
    public func waitForLine(timeout: Duration, _ match: (Substring) -> Bool) async throws -> String? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let line = stdout.split(separator: "\n").first(where: match) { return String(line) }
            if exitStatus != nil { return nil }
            try await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    /// Waits for the exit status; nil if still running after `timeout`.
    public func waitForExit(timeout: Duration) async throws -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let status = exitStatus { return status }
            try await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    public func signal(_ signal: Int32) {
        if exitStatus == nil { kill(pid, signal) }
    }

    /// SIGKILL if it is still running: a test never leaves its child behind.
    public func stop() {
        signal(SIGKILL)
    }
}
