import DocketCore
import DocketWire
import NIOCore

/// What a command knows about the connection it came on.
struct SessionInfo: Sendable {
    var id: Int64
    var actor: Actor?
    var token: String?
    var version: RESPVersion = .resp2
    var name: String?
    var watching: WatchFilter?
    var address: String
    /// The directory epoch the actor was last checked at; a newer one means check again.
    var authEpoch = 0
    /// Refused AUTH attempts on this connection (rate limiting).
    var failedAuths = 0
}

/// Which events a watcher wants.
struct WatchFilter: Sendable, Hashable {
    var workflow: String?
    var item: String?
    var theme: String?

    var channel: String {
        if let item { return "item:\(item)" }
        if let workflow { return "workflow:\(workflow)" }
        if let theme { return "theme:\(theme)" }
        return "events"
    }
}

/// A change a command makes to its session.
enum SessionUpdate: Sendable {
    case authenticated(Actor, token: String, epoch: Int)
    /// The token no longer works (revoked, user removed): back to unauthenticated.
    case deauthenticated
    case authFailed
    /// Close the connection once this reply is written.
    case closeAfterReply
    case version(RESPVersion)
    case name(String?)
    case watch(WatchFilter)
    case unwatch
}

/// How a command answers.
enum Outcome: Sendable {
    case reply(RESPValue, [SessionUpdate] = [])
    /// Reply, then close the connection.
    case close(RESPValue)
    /// Needs the database: run off the event loop, answer when done.
    case later(@Sendable () async -> (RESPValue, [SessionUpdate]))
    /// A read answered on the session's own event loop (`Store.itemOnLoop`): `start` answers
    /// its callback there, later, never within the call. When it cannot, `start` gives false or
    /// its answer fails with `NeedsPooledRead`: then `fallback` runs as `later`.
    case onLoop(start: @Sendable (any EventLoop, @escaping (Result<Answer, any Error>) -> Void) -> Bool,
                fallback: @Sendable () async -> (RESPValue, [SessionUpdate]))
}

/// A reply on its way to the connection: a value, or an item written straight from its
/// snapshot (`Reply.writeItem`, the bytes of `Reply.item` without building it first).
enum Answer: Sendable {
    case value(RESPValue)
    case item(ItemSnapshot, WorkflowDefinition?)
}
