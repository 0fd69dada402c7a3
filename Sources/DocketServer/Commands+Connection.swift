import DocketCore
import DocketStore
import DocketWire
import Foundation

extension CommandRouter {
    static let connectionCommands: [String: Handler] = [
        "PING": { _, args, session throws(CommandError) in
            try args.require(0, atMost: 1)
            if session.watching != nil, session.version == .resp2 {
                return .reply(.array([.bulk("pong"), .bulk(args.count == 1 ? args[0] : "")]))
            }
            return .reply(args.count == 1 ? .bulk(args[0]) : .simpleString("PONG"))
        },
        "QUIT": { _, _, _ throws(CommandError) in .close(Reply.ok()) },
        // Binary-safe in SessionHandler.run: `redis-cli --pipe` ends with ECHO of 20 random bytes.
        "ECHO": { _, args, _ throws(CommandError) in
            try args.require(1, atMost: 1)
            return .reply(.bulk(args[0]))
        },
        "SELECT": { _, args, _ throws(CommandError) in
            try args.require(1, atMost: 1)
            guard args[0] == "0" else { throw .syntax("DB index is out of range (Docket has only database 0)") }
            return .reply(Reply.ok())
        },
        "COMMAND": { _, _, _ throws(CommandError) in .reply(.array([])) },
        "CONFIG GET": { _, _, _ throws(CommandError) in .reply(.array([])) },
        "CLIENT SETNAME": { _, args, _ throws(CommandError) in
            try args.require(1, atMost: 1)
            guard !args[0].contains(where: { $0 == " " || $0 == "\n" }) else { throw .syntax("Client names cannot contain spaces, newlines or special characters.") }
            return .reply(Reply.ok(), [.name(args[0].isEmpty ? nil : args[0])])
        },
        "CLIENT GETNAME": { _, args, session throws(CommandError) in
            try args.require(0, atMost: 0)
            return .reply(Reply.text(session.name))
        },
        "CLIENT ID": { _, args, session throws(CommandError) in
            try args.require(0, atMost: 0)
            return .reply(.integer(session.id))
        },
        "AUTH": { router, args, session throws(CommandError) in
            try args.require(2, atMost: 2)
            return router.authenticate(user: args[0], token: args[1], session: session) { _ in Reply.ok() }
        },
        "HEALTH": { router, args, _ throws(CommandError) in
            try args.require(0, atMost: 0)
            let (store, stats) = (router.services.store, router.services.stats)
            return .later {
                let started = ContinuousClock.now
                var database = "ok"
                do { try await store.ping() } catch { database = String(describing: error) }
                let elapsed = ContinuousClock.now - started
                let ms = elapsed.microseconds / 1000
                return (Reply.map([
                    ("status", .bulk(database == "ok" ? "ok" : "unavailable")), ("database", .bulk(database)),
                    ("database_ms", .integer(ms)), ("version", .bulk(ServerInfo.version)),
                    ("uptime_s", .integer(Int64(Date().timeIntervalSince(stats.startedAt)))),
                ]), [])
            }
        },
        "HELLO": { router, args, session throws(CommandError) in
            var version = session.version
            var i = 0
            if args.count > 0, let v = Int(args[0]) {
                guard let chosen = RESPVersion(rawValue: v) else { throw CommandError(code: "NOPROTO", message: "unsupported protocol version") }
                version = chosen
                i = 1
            }
            var auth: (String, String)?
            var name: String?
            while i < args.count {
                switch args[i].uppercased() {
                case "AUTH" where i + 2 < args.count:
                    auth = (args[i + 1], args[i + 2])
                    i += 3
                case "SETNAME" where i + 1 < args.count:
                    name = args[i + 1]
                    i += 2
                default:
                    throw .syntax("syntax error in HELLO option '\(args[i])'")
                }
            }
            let chosen = version
            var updates: [SessionUpdate] = [.version(chosen)]
            if let name { updates.append(.name(name)) }
            let info: @Sendable (SessionInfo) -> RESPValue = { (s: SessionInfo) in
                Reply.map([
                    ("server", .bulk("docket")), ("version", .bulk(ServerInfo.version)), ("proto", .integer(Int64(chosen.rawValue))),
                    ("id", .integer(s.id)), ("mode", .bulk("standalone")), ("role", .bulk("master")), ("modules", .array([])),
                ])
            }
            if let (user, token) = auth {
                return router.authenticate(user: user, token: token, session: session, extra: updates) { _ in info(session) }
            }
            guard session.actor != nil else {
                return .reply(.error("NOAUTH HELLO must be called with AUTH user token before other commands"), [])
            }
            return .reply(info(session), updates)
        },
        "WHOAMI": { router, args, session throws(CommandError) in
            try args.require(0, atMost: 0)
            guard let actor = session.actor else { throw CommandError(code: "NOAUTH", message: "Authentication required") }
            return router.later(session) { _, _ in
                let users = try await router.services.store.users()
                let name = users.first { $0.handle == actor.handle }?.name
                var roles = actor.globalRoles.map(\.rawValue).sorted()
                for (group, inGroup) in actor.groupRoles.sorted(by: { $0.key < $1.key }) {
                    roles += inGroup.map { "\(group):\($0.rawValue)" }.sorted()
                }
                return Reply.map([("user", .bulk(actor.handle)), ("name", Reply.text(name)), ("member", Reply.text(actor.member)),
                                  ("roles", .array(roles.map { .bulk($0) }))])
            }
        },
        "INFO": { router, args, session throws(CommandError) in
            try args.require(0, atMost: 1)
            let section = args.count == 1 ? args[0].lowercased() : nil
            return .reply(.bulk(ServerInfo.render(router.services, section: section)))
        },
    ]

    /// Checks a token; on success the session becomes `user`'s. Refusals are rate-limited per
    /// connection: after `authFailuresBeforeDelay` each further attempt waits longer before it
    /// is checked, and after `authFailuresBeforeClose` the connection is closed.
    func authenticate(user: String, token: String, session: SessionInfo, extra: [SessionUpdate] = [],
                      reply: @escaping @Sendable (Actor) -> RESPValue) -> Outcome {
        let (store, epoch, metrics, configuration) = (services.store, services.directory.current, services.metrics, services.configuration)
        let failures = session.failedAuths
        return .later {
            if failures >= configuration.authFailuresBeforeDelay {
                let steps = min(failures - configuration.authFailuresBeforeDelay + 1, 10)
                try? await Task.sleep(for: configuration.authFailureDelay * steps)
            }
            do {
                guard let actor = try await store.authenticate(handle: user, token: token) else {
                    metrics.authFailed()
                    if failures + 1 >= configuration.authFailuresBeforeClose {
                        return (.error("WRONGPASS invalid username-token pair; too many failed attempts, closing the connection"),
                                [.authFailed, .closeAfterReply])
                    }
                    return (.error("WRONGPASS invalid username-token pair or user is disabled."), [.authFailed])
                }
                return (reply(actor), [.authenticated(actor, token: token, epoch: epoch)] + extra)
            } catch {
                return (Reply.error(error), [])
            }
        }
    }
}

enum ServerInfo {
    static let version = "0.1.0"

    static func render(_ services: Services, section: String?) -> String {
        let stats = services.stats.snapshot
        let counts = services.metrics.snapshot
        let uptime = Int(Date().timeIntervalSince(services.stats.startedAt))
        let sections: [(String, [(String, String)])] = [
            ("Server", [("docket_version", version), ("redis_version", "7.0.0"), ("mode", "standalone"),
                        ("tcp_port", String(stats.port ?? services.configuration.port)), ("uptime_in_seconds", String(uptime)),
                        ("process_id", String(ProcessInfo.processInfo.processIdentifier))]),
            ("Clients", [("connected_clients", String(stats.connected)), ("watchers", String(stats.watchers)),
                         ("maxclients", String(services.configuration.maxConnections))]),
            ("Store", [("database", "postgresql"), ("last_event_seq", String(services.hub.lastSeq))]),
            ("Stats", [("total_connections_received", String(stats.connectionsTotal)), ("total_commands_processed", String(services.metrics.commandsProcessed)),
                       ("total_error_replies", String(stats.errors)), ("rejected_connections", String(stats.rejectedConnections)),
                       ("auth_failures", String(counts.authFailures)), ("timers_fired", String(counts.timersFired)),
                       ("watch_events_pushed", String(counts.eventsPushed)), ("database_operations_in_flight", String(counts.databaseInFlight)),
                       ("database_pool_size", String(services.configuration.poolSize)), ("loop_reads", String(services.store.loopReads)),
                       ("loop_read_queries", String(services.store.loopReadQueries)),
                       ("contended_writes", String(services.store.contendedWrites))]),
            ("Commandstats", services.metrics.commandStats.map { name, s in
                ("cmdstat_" + name.lowercased().replacingOccurrences(of: " ", with: "|"),
                 "calls=\(s.calls),usec=\(s.microseconds),usec_per_call=\(s.calls == 0 ? "0.00" : String(format: "%.2f", Double(s.microseconds) / Double(s.calls))),failed_calls=\(s.failed)")
            }),
        ]
        return sections.filter { section == nil || section == "all" || section == $0.0.lowercased() }
            .map { "# \($0.0)\r\n" + $0.1.map { "\($0.0):\($0.1)\r\n" }.joined() }
            .joined(separator: "\r\n")
    }
}
