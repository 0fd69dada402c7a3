import DocketCore

/// Why the store refused or failed a request. Each case maps to one error class of the
/// admin protocol (`NOTFOUND`, `CONFLICT`, ...).
public enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No such item, workflow, user, member, group or theme (or one the actor may not see).
    case notFound(String)
    /// `IFVERSION` did not match.
    case conflict(item: String, current: Int, expected: Int)
    /// The engine refused: the decision lists every check.
    case denied(Decision)
    /// A value is not acceptable.
    case invalid(String)
    /// The actor's role does not allow this.
    case noPermission(String)
    /// The database cannot be reached; safe to retry.
    case unavailable(String)

    public var description: String {
        switch self {
        case let .notFound(what): "\(what) not found"
        case let .conflict(item, current, expected): "\(item) is at version \(current), not \(expected)"
        case let .denied(decision): decision.refusal
        case let .invalid(message): message
        case let .noPermission(message): message
        case let .unavailable(message): "the database is unavailable: \(message)"
        }
    }
}
