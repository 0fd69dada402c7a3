import Foundation

/// Errors thrown by ``EmbeddedPostgres``.
public enum EmbeddedPostgresError: Error, CustomStringConvertible, Sendable {
    /// No directory holding `initdb`, `pg_ctl`, `postgres` and `psql` was found.
    /// `searched` names the places that were looked at.
    case postgresNotFound(searched: [String])
    /// Running as root, but neither `postgres` nor `nobody` exists to own the cluster.
    case noUnprivilegedUser
    /// Running as root, but neither `runuser` nor `su` was found to drop privileges.
    case noPrivilegeDropTool
    /// A directory the launcher manages is unsafe or unusable (wrong owner, a symlink, …).
    case unsafeDirectory(path: String, reason: String)
    /// `<dataDirectory>/launcher.lock` could not be opened or locked.
    case lockFailed(path: String, reason: String)
    /// The configuration contains a value that cannot be used.
    case invalidConfiguration(String)
    /// `pg_ctl start` failed; `logTail` holds the last lines of `server.log`.
    case startFailed(command: String, output: String, logTail: String)
    /// The server is running, but where it listens could not be determined.
    case connectionInfoUnavailable(clusterDirectory: String)

    /// A human-readable explanation. For ``postgresNotFound(searched:)`` this is a
    /// single line that says how to install PostgreSQL.
    public var description: String {
        switch self {
        case .postgresNotFound(let searched):
            let places = searched.map { $0.replacingOccurrences(of: "\n", with: " ") }.joined(separator: ", ")
            return "PostgreSQL was not found (looked in \(places)): install it "
                + "(Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql@15), "
                + "set DOCKET_PG_BINDIR to its bin directory, or pass --database-url"
        case .noUnprivilegedUser:
            return "PostgreSQL refuses to run as root and neither the 'postgres' nor the 'nobody' user exists: "
                + "create a 'postgres' user (useradd --system postgres) or pass --database-url"
        case .noPrivilegeDropTool:
            return "running as root but neither runuser nor su was found to start PostgreSQL as an unprivileged user"
        case .unsafeDirectory(let path, let reason):
            return "refusing to use \(path) for the embedded PostgreSQL cluster: \(reason)"
        case .lockFailed(let path, let reason):
            return "could not lock \(path): \(reason)"
        case .invalidConfiguration(let message):
            return "invalid embedded PostgreSQL configuration: \(message)"
        case .startFailed(let command, let output, let logTail):
            var text = "PostgreSQL failed to start (`\(command)`)"
            let trimmed = output.trimmingCharacters(in: .whitespacesAndNewlines)
            if !trimmed.isEmpty { text += ":\n\(trimmed)" }
            if !logTail.isEmpty { text += "\nlast lines of server.log:\n\(logTail)" }
            return text
        case .connectionInfoUnavailable(let clusterDirectory):
            return "PostgreSQL is running in \(clusterDirectory) but its socket directory and port could not be determined"
        }
    }
}
