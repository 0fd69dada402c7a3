import ArgumentParser
import DocketClient
import Foundation

/// A failure the CLI reports in one line on stderr: `docket: MESSAGE — HINT`, then exits
/// with `code`.
struct CLIFailure: Error, Sendable, CustomStringConvertible {
    enum Kind: Sendable {
        case failure, usage, invalid, notFound, unavailable, conflict, denied

        var exitCode: Int32 {
            switch self {
            case .failure: Exit.failure
            case .usage: Exit.usage
            case .invalid: Exit.invalid
            case .notFound: Exit.notFound
            case .unavailable: Exit.unavailable
            case .conflict: Exit.conflict
            case .denied: Exit.denied
            }
        }
    }

    var kind: Kind
    var message: String
    var hint: String?

    init(_ kind: Kind, _ message: String, hint: String? = nil) {
        self.kind = kind
        self.message = message
        self.hint = hint
    }

    var description: String { hint.map { "\(message) — \($0)" } ?? message }

    /// The exit code of a server error class (PROTOCOL.md "Errors").
    static func kind(ofServerCode code: String) -> Kind {
        switch code {
        case "NOTFOUND": .notFound
        case "INVALID": .invalid
        case "DENIED", "NOPERM", "NOAUTH", "WRONGPASS": .denied
        case "CONFLICT": .conflict
        case "UNAVAILABLE": .unavailable
        case "ERR": .usage
        default: .failure
        }
    }

    /// A server error with the hint the command gave for its class, or a general one.
    init(_ error: ServerError, hints: [String: String] = [:]) {
        let oneLine = error.line.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        self.init(Self.kind(ofServerCode: error.code), oneLine, hint: hints[error.code] ?? Self.defaultHint(error))
    }

    static func defaultHint(_ error: ServerError) -> String? {
        switch error.code {
        case "NOTFOUND":
            let what = error.message.split(separator: " ").first.map(String.init) ?? ""
            switch what {
            case "item": return "run `docket list` to see the items you can see"
            case "member": return "run `docket member list` to see the members"
            case "user", "actor": return "run `docket user list` to see the users"
            case "group": return "run `docket group list` to see the working groups"
            case "theme": return "run `docket theme list` to see the themes"
            case "workflow": return "run `docket workflow list` to see the loaded workflows"
            case "revision": return "run `docket show ID` to see how many revisions the item has"
            default: return nil
            }
        case "DENIED": return "each failed check is named; `docket show ID` shows the item's state and people"
        case "NOPERM": return "ask an admin to grant you the role (`docket user grant`)"
        case "CONFLICT": return "someone changed it first: look with `docket show ID`, then try again"
        case "UNAVAILABLE": return "the server cannot reach its database; try again in a moment"
        case "WRONGPASS": return "check --user and --token, or run `docket login` again"
        case "NOAUTH": return "run `docket login`, or pass --user and --token"
        case "ERR": return "docket and the server disagree on the protocol; check that both are the same version"
        default: return nil
        }
    }

    /// A connection failure, with what to try.
    init(_ error: ClientError, address: ServerAddress, tls: Bool) {
        let local = ConnectionSettings.isLoopback(address.host)
        switch error {
        case .connectionFailed(_, let reason) where reason.contains("CERTIFICATE_VERIFY_FAILED") || reason.contains("certificate"):
            self.init(.unavailable, "could not connect to \(address): its TLS certificate is not trusted",
                      hint: "pass --cacert FILE with the server's certificate or its CA")
        case .connectionFailed(_, let reason) where reason.contains("TLS"):
            self.init(.unavailable, "could not connect to \(address): TLS handshake failed",
                      hint: "check that the server serves TLS on that port, and --cacert")
        case .connectionFailed(_, let reason):
            let why = reason.contains("Connection refused") ? "connection refused"
                : reason.contains("Network is unreachable") ? "network unreachable" : reason
            let hint = local
                ? "start the server with `docket serve`, or pass --server HOST:PORT"
                : "check --server and that the server is running" + (tls ? "" : "; if it serves TLS pass --tls")
            self.init(.unavailable, "could not connect to \(address): \(why)", hint: hint)
        case .protocolError(let message) where !tls && (message.contains("\\x15") || message.contains("\\x16")):
            self.init(.unavailable, "\(address) answered in TLS", hint: "pass --tls (and --cacert FILE unless its certificate comes from a public CA)")
        case .connectionClosed, .protocolError:
            self.init(.unavailable, "\(error.description) by \(address)",
                      hint: tls ? "check that \(address) is a Docket server with TLS" : "check that \(address) is a Docket server; if it serves TLS pass --tls")
        case .timeout:
            self.init(.unavailable, error.description, hint: "the server is slow or stuck; try again")
        }
    }

    /// Prints the failure on stderr; returns the exit code to throw.
    func report() -> ExitCode {
        Terminal.writeError("docket: \(description)\n")
        return ExitCode(kind.exitCode)
    }
}
