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
        var commands = 0
        var errors = 0
        var watchers = 0
        var rejectedConnections = 0
        /// The port actually bound (the configured one may be 0).
        var port: Int?
    }

    func update(_ body: (inout State) -> Void) { state.withLockedValue(body) }
    var snapshot: State { state.withLockedValue { $0 } }
}

/// Everything commands reach: the store, the clock, the event hub.
struct Services: Sendable {
    var store: Store
    var clock: any DocketClock
    var hub: EventHub
    var configuration: ServerConfiguration
    var stats: ServerStats
}

/// Maps each command name to its handler and enforces authentication before it runs.
struct CommandRouter: Sendable {
    let services: Services

    typealias Handler = @Sendable (CommandRouter, Arguments, SessionInfo) throws(CommandError) -> Outcome

    static let beforeAuth: Set<String> = ["PING", "HELLO", "AUTH", "QUIT"]
    static let whileWatchingRESP2: Set<String> = ["PING", "QUIT", "UNWATCH", "WATCH", "RESET"]

    func route(_ words: [String], session: SessionInfo) -> Outcome {
        guard let first = words.first else { return .reply(.error("ERR empty command")) }
        var name = first.uppercased()
        var rest = Array(words.dropFirst())
        // Two-word commands: CLIENT SETNAME, COMMAND DOCS, CONFIG GET.
        if ["CLIENT", "COMMAND", "CONFIG"].contains(name), let sub = rest.first {
            name += " " + sub.uppercased()
            rest.removeFirst()
        }
        guard let handler = Self.table[name] ?? (name.hasPrefix("COMMAND") ? Self.table["COMMAND"] : nil) else {
            let shown = words.prefix(3).map { "'\($0.prefix(40))'" }.joined(separator: " ")
            return .reply(.error("ERR unknown command \(shown)"))
        }
        if session.actor == nil, !Self.beforeAuth.contains(name) {
            return .reply(.error("NOAUTH Authentication required: AUTH user token"))
        }
        if session.watching != nil, session.version == .resp2, !Self.whileWatchingRESP2.contains(name) {
            return .reply(.error("ERR only PING, QUIT and UNWATCH are allowed while watching in RESP2 (use HELLO 3 to mix)"))
        }
        do {
            return try handler(self, Arguments(name: name, words: rest), session)
        } catch {
            return .reply(Reply.error(error))
        }
    }

    /// Runs `body` off the event loop with the authenticated actor; store errors become replies.
    func later(_ session: SessionInfo, _ body: @escaping @Sendable (Actor, Date) async throws -> RESPValue) -> Outcome {
        guard let actor = session.actor else { return .reply(.error("NOAUTH Authentication required: AUTH user token")) }
        let clock = services.clock
        return .later {
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
}
