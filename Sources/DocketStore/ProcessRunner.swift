import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The captured result of a finished child process.
public struct ProcessOutput: Sendable {
    /// The executable followed by its arguments.
    public let command: [String]
    /// The exit status, or `128 + signal` if the process was killed by a signal.
    public let exitCode: Int32
    /// Everything the process wrote to standard output, decoded as UTF-8.
    public let stdout: String
    /// Everything the process wrote to standard error, decoded as UTF-8.
    public let stderr: String
}

/// A child process exited with a non-zero status.
public struct ProcessRunnerError: Error, CustomStringConvertible, Sendable {
    /// The executable followed by its arguments.
    public let command: [String]
    /// The exit status (or `128 + signal`).
    public let exitCode: Int32
    /// Captured standard output.
    public let stdout: String
    /// Captured standard error.
    public let stderr: String

    /// The command line, the exit status and the tail of stderr (or stdout if stderr is empty).
    public var description: String {
        let output = stderr.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? stdout : stderr
        let tail = output.split(separator: "\n", omittingEmptySubsequences: true).suffix(20).joined(separator: "\n")
        let head = "`\(ProcessRunner.render(command))` failed with exit code \(exitCode)"
        return tail.isEmpty ? head : "\(head):\n\(tail)"
    }
}

/// Runs child processes without blocking Swift's cooperative thread pool.
///
/// Children are started with `posix_spawn`, with every descriptor other than
/// stdin/stdout/stderr closed, and reaped with `waitpid` on a dedicated thread that
/// resumes a continuation. Foundation's `Process` is deliberately not used: on Linux it
/// detects termination through a socket that the child inherits, so a daemon the child
/// leaves behind (the postmaster that `pg_ctl start` forks) keeps it from ever noticing
/// the exit. Output goes to temporary files rather than pipes for the same reason.
public enum ProcessRunner {
    /// Runs `executable` (an absolute path) with `arguments` and waits for it to exit.
    ///
    /// - Parameters:
    ///   - executable: Absolute path of the program.
    ///   - arguments: Arguments, passed verbatim (no shell).
    ///   - environment: The complete environment of the child; `nil` inherits ours.
    ///   - currentDirectory: Working directory of the child; `nil` inherits ours.
    ///   - checkExitCode: When `true`, a non-zero exit throws ``ProcessRunnerError``.
    /// - Returns: The exit code (`128 + signal` if killed by a signal) and captured output.
    /// - Throws: ``ProcessRunnerError`` on a non-zero exit (if checked), or a launch error.
    ///   Cancelling the calling task sends `SIGTERM` to the child.
    @discardableResult
    public static func run(
        _ executable: String,
        _ arguments: [String] = [],
        environment: [String: String]? = nil,
        currentDirectory: String? = nil,
        checkExitCode: Bool = true
    ) async throws -> ProcessOutput {
        let command = [executable] + arguments
        let scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("docket-process-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(
            at: scratch, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outPath = scratch.appendingPathComponent("stdout").path
        let errPath = scratch.appendingPathComponent("stderr").path

        let pid: pid_t = try {
            let outFD = open(outPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            let errFD = open(errPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            defer {
                if outFD >= 0 { close(outFD) }
                if errFD >= 0 { close(errFD) }
            }
            guard outFD >= 0, errFD >= 0 else { throw POSIXSpawn.error(errno, command) }
            return try POSIXSpawn.spawn(
                command, environment: environment ?? ProcessInfo.processInfo.environment,
                currentDirectory: currentDirectory, stdout: outFD, stderr: errFD)
        }()

        let child = ChildProcess(pid: pid)
        let status = await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
                Thread.detachNewThread {
                    continuation.resume(returning: child.waitForExit())
                }
            }
        } onCancel: {
            child.terminate()
        }

        let stdout = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        let output = ProcessOutput(command: command, exitCode: status, stdout: stdout, stderr: stderr)
        if checkExitCode && status != 0 {
            throw ProcessRunnerError(command: command, exitCode: status, stdout: stdout, stderr: stderr)
        }
        return output
    }

    /// Renders a command line for messages, single-quoting arguments that need it.
    public static func render(_ command: [String]) -> String {
        command.map(shellQuote).joined(separator: " ")
    }

    /// Quotes `argument` for a POSIX shell (`'…'`, with embedded quotes escaped).
    public static func shellQuote(_ argument: String) -> String {
        let safe = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:@%+,")
        if !argument.isEmpty, argument.unicodeScalars.allSatisfy({ safe.contains($0) }) { return argument }
        return "'" + argument.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}

/// A spawned child; `terminate()` is a no-op once it has been reaped, so a recycled pid
/// is never signalled.
private final class ChildProcess: @unchecked Sendable {
    private let pid: pid_t
    private let lock = NSLock()
    private var reaped = false

    init(pid: pid_t) { self.pid = pid }

    /// Blocks the calling thread (never a cooperative one) until the child exits.
    func waitForExit() -> Int32 {
        // Wait without reaping first, so the pid cannot be recycled while `terminate()`
        // might still signal it; then reap under the lock.
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) == -1 && errno == EINTR {}
        return lock.withLock {
            reaped = true
            return POSIXSpawn.wait(pid)
        }
    }

    func terminate() {
        lock.withLock { if !reaped { kill(pid, SIGTERM) } }
    }
}
