import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive `flock(2)` on `<dataDirectory>/launcher.lock`.
///
/// `flock` locks belong to the open file description, so two tasks of one process
/// exclude each other just like two processes do. The lock is polled with
/// `LOCK_NB` so that waiting never blocks a thread of the cooperative pool.
enum LauncherLock {
    /// Runs `body` while holding the lock at `path`, waiting at most `timeout` for it.
    static func withLock<T: Sendable>(
        path: String,
        timeout: Duration = .seconds(300),
        _ body: () async throws -> T
    ) async throws -> T {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw EmbeddedPostgresError.lockFailed(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let error = errno
            guard error == EWOULDBLOCK || error == EINTR else {
                throw EmbeddedPostgresError.lockFailed(path: path, reason: String(cString: strerror(error)))
            }
            guard clock.now < deadline else {
                throw EmbeddedPostgresError.lockFailed(path: path, reason: "timed out after \(timeout) waiting for another launcher")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        defer { flock(fd, LOCK_UN) }
        return try await body()
    }
}
