import DocketCore
import DocketStore
import DocketWire
import Foundation
import NIOConcurrencyHelpers

/// Counters the INFO command and metrics read.
final class ServerStats: Sendable {
    let startedAt = Date()
    private let state = NIOLockedValueBox(State())

    struct State {
        var connectionsTotal = 0
        var connected = 0
        var errors = 0
        var watchers = 0
        var rejectedConnections = 0
        /// The port actually bound (the configured one may be 0).
        var port: Int?
    }

    func update(_ body: (inout State) -> Void) { state.withLockedValue(body) }
    var snapshot: State { state.withLockedValue { $0 } }
}

/// Everything commands reach: the store, the clock, the event hub. A class, so handing the
/// router to each command retains one reference rather than each of these.
final class Services: Sendable {
    let store: Store
    let clock: any DocketClock
    let hub: EventHub
    let configuration: ServerConfiguration
    let stats: ServerStats
    let metrics: ServerMetrics
    let directory: DirectoryEpoch

    init(store: Store, clock: any DocketClock, hub: EventHub, configuration: ServerConfiguration, stats: ServerStats,
         metrics: ServerMetrics, directory: DirectoryEpoch) {
        (self.store, self.clock, self.hub, self.configuration) = (store, clock, hub, configuration)
        (self.stats, self.metrics, self.directory) = (stats, metrics, directory)
    }
}

/// Maps each command name to its handler and enforces authentication before it runs.
struct CommandRouter: Sendable {
    let services: Services

    typealias Handler = @Sendable (CommandRouter, Arguments, SessionInfo) throws(CommandError) -> Outcome

    static let beforeAuth: Set<String> = ["PING", "HELLO", "AUTH", "QUIT", "HEALTH"]
    /// Commands that read or work through many rows, with every `*.LIST`: they run on the
    /// cooperative pool with the shared connection pool, so one long list or report does not
    /// hold up the other sessions of its event loop. Every other command that needs the
    /// database runs on its session's loop, with that loop's own connections (`LoopPools`).
    static let offLoop: Set<String> = [
        "ITEM.LIST", "ITEM.HISTORY", "ITEM.DIFF", "REPORT.STATUS", "REPORT.WAITING", "REPORT.CYCLE", "EVENTS.READ",
        "AUDIT.VERIFY", "WORKFLOW.MIGRATE", "WORKFLOW.LOAD", "WORKFLOW.CHECK",
    ]
    /// Commands after which open sessions re-check their token and roles.
    static let directoryChanging: Set<String> = ["USER.GRANT", "USER.REVOKE", "TOKEN.REVOKE", "USER.ADD", "MEMBER.ADD"]

    /// A command's handler and the rules `route` applies before it runs, looked up together in
    /// one table lookup per request.
    struct Entry: Sendable {
        let handler: Handler
        /// Runs without AUTH.
        let beforeAuth: Bool
        /// Allowed on a RESP2 connection that is watching.
        let whileWatching: Bool
        /// Open sessions re-check their token and roles after it.
        let changesDirectory: Bool
        /// Its database work runs on the session's event loop (see `offLoop`).
        let runsOnLoop: Bool

        init(_ name: String, _ handler: @escaping Handler) {
            self.handler = handler
            beforeAuth = CommandRouter.beforeAuth.contains(name)
            whileWatching = CommandRouter.whileWatchingRESP2.contains(name)
            changesDirectory = CommandRouter.directoryChanging.contains(name)
            runsOnLoop = !CommandRouter.offLoop.contains(name) && !name.hasSuffix(".LIST")
        }
    }

    /// A request's words resolved against the command table, once per request.
    struct Request {
        /// The command word and the arguments after it, as sent.
        var first: String
        var sentRest: [String]
        /// Upper-cased, two words for `CLIENT SETNAME`, `COMMAND DOCS`, `CONFIG GET`.
        var name: String
        /// The arguments after the name.
        var rest: [String]
        var entry: Entry?
        /// The command's name for metrics labels (`ITEM.GET`, `COMMAND`), or `unknown`.
        var metricName: String

        /// The words as sent, for messages.
        var words: [String] { [first] + sentRest }
    }

    /// Commands whose first argument is part of the name.
    static let twoWordCommands: Set<String> = ["CLIENT", "COMMAND", "CONFIG"]

    /// Resolves a command word and its arguments (the parser never yields a request without
    /// a word, so there is always a first one).
    static func resolve(first: String, rest sentRest: [String]) -> Request {
        // Most clients send names in capitals: then the name is the word itself.
        var name = first.utf8.allSatisfy { $0 < 0x80 && !($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z")) } ? first : first.uppercased()
        var rest = sentRest
        // Only the two-word commands start with C: most requests skip the set lookup.
        if name.utf8.first == UInt8(ascii: "C"), twoWordCommands.contains(name), let sub = rest.first {
            name += " " + sub.uppercased()
            rest.removeFirst()
        }
        if let entry = entries[name] {
            return Request(first: first, sentRest: sentRest, name: name, rest: rest, entry: entry, metricName: name)
        }
        let entry = name.hasPrefix("COMMAND") ? entries["COMMAND"] : nil
        return Request(first: first, sentRest: sentRest, name: name, rest: rest, entry: entry, metricName: entry == nil ? "unknown" : "COMMAND")
    }

    static let whileWatchingRESP2: Set<String> = ["PING", "QUIT", "UNWATCH", "WATCH", "RESET"]

    func route(_ request: Request, session: SessionInfo) -> Outcome {
        let (name, rest) = (request.name, request.rest)
        guard let entry = request.entry else {
            let shown = request.words.prefix(3).map { "'\($0.prefix(40))'" }.joined(separator: " ")
            return .reply(.error("ERR unknown command \(shown)"))
        }
        if session.actor == nil, !entry.beforeAuth {
            return .reply(.error("NOAUTH Authentication required: AUTH user token"))
        }
        if session.watching != nil, session.version == .resp2, !entry.whileWatching {
            return .reply(.error("ERR only PING, QUIT and UNWATCH are allowed while watching in RESP2 (use HELLO 3 to mix)"))
        }
        let outcome: Outcome
        if let actor = session.actor, !entry.beforeAuth, session.authEpoch != services.directory.current {
            outcome = recheck(actor, entry.handler, Arguments(name: name, words: rest), session)
        } else {
            outcome = dispatch(entry.handler, Arguments(name: name, words: rest), session)
        }
        guard entry.changesDirectory, case let .later(body) = outcome else { return outcome }
        let directory = services.directory
        return .later {
            let result = await body()
            directory.bump()
            return result
        }
    }

    func dispatch(_ handler: Handler, _ args: Arguments, _ session: SessionInfo) -> Outcome {
        do {
            return try handler(self, args, session)
        } catch {
            return .reply(Reply.error(error))
        }
    }

    /// The directory changed since this session's token was checked: check it again (and
    /// reload the actor's roles) before running the command.
    func recheck(_ actor: Actor, _ handler: @escaping Handler, _ args: Arguments, _ session: SessionInfo) -> Outcome {
        let token = session.token ?? ""
        return .later {
            do {
                let refreshed = try await self.recheckToken(actor, token: token)
                guard case let .authenticated(fresh, _, epoch) = refreshed else {
                    return (.error("NOAUTH this connection's token was revoked: AUTH again"), [refreshed])
                }
                var checked = session
                checked.actor = fresh
                checked.authEpoch = epoch
                switch self.dispatch(handler, args, checked) {
                case let .reply(value, updates): return (value, [refreshed] + updates)
                case let .later(body), let .onLoop(_, body):
                    let (value, updates) = await body()
                    return (value, [refreshed] + updates)
                case let .close(value): return (value, [refreshed, .closeAfterReply])
                }
            } catch {
                return (Reply.error(error), [])
            }
        }
    }

    /// `actor`'s token checked again at the current directory epoch: `.authenticated` with the
    /// reloaded actor, or `.deauthenticated` when the token no longer works.
    func recheckToken(_ actor: Actor, token: String) async throws -> SessionUpdate {
        let epoch = services.directory.current
        guard let fresh = try await services.store.authenticate(handle: actor.handle, token: token) else { return .deauthenticated }
        return .authenticated(fresh, token: token, epoch: epoch)
    }

    /// Runs `body` off the event loop with the authenticated actor; store errors become replies.
    func later(_ session: SessionInfo, _ body: @escaping @Sendable (Actor, Date) async throws -> RESPValue) -> Outcome {
        guard let actor = session.actor else { return .reply(.error("NOAUTH Authentication required: AUTH user token")) }
        let (clock, metrics) = (services.clock, services.metrics)
        return .later {
            metrics.databaseOperation(started: true)
            defer { metrics.databaseOperation(started: false) }
            do {
                return (try await body(actor, clock.now()), [])
            } catch {
                return (Reply.error(error), [])
            }
        }
    }

    func requireRole(_ session: SessionInfo, _ roles: Set<Role>, _ what: String) throws(CommandError) {
        guard let actor = session.actor, !actor.globalRoles.isDisjoint(with: roles) else {
            throw .noPerm("\(what) needs the \(roles.map(\.rawValue).sorted().joined(separator: " or ")) role")
        }
    }

    static let table: [String: Handler] = {
        var t: [String: Handler] = [:]
        for (name, handler) in connectionCommands { t[name] = handler }
        for (name, handler) in itemCommands { t[name] = handler }
        for (name, handler) in reviewCommands { t[name] = handler }
        for (name, handler) in workflowCommands { t[name] = handler }
        for (name, handler) in directoryCommands { t[name] = handler }
        for (name, handler) in trackingCommands { t[name] = handler }
        for (name, handler) in migrateCommands { t[name] = handler }
        return t
    }()

    static let entries: [String: Entry] = Dictionary(uniqueKeysWithValues: table.map { ($0.key, Entry($0.key, $0.value)) })
}
