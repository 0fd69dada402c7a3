import DocketCore
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PostgresNIO

/// Every change to Docket's data goes through the store: it loads an item's snapshot, asks the
/// engine to decide, and writes the item, its event and the hash chain in one statement that
/// applies only if the item has not moved meanwhile.
public final class Store: Sendable {
    public let client: PostgresClient
    let logger: Logger
    /// What queries are given: the store's logger when it keeps debug records, otherwise one
    /// that keeps nothing. PostgresNIO sets per-query metadata on the logger it is handed, and
    /// with a real handler that was a tenth of a transition's CPU in the profile.
    let queryLogger: Logger
    /// Parsed definitions by name and version; a stored version never changes.
    let definitions = NIOLockedValueBox<[DefinitionKey: WorkflowDefinition]>([:])

    /// A workflow version: looked up on every ITEM.GET, so no string is built for it.
    struct DefinitionKey: Hashable {
        var name: String
        var version: Int
    }

    /// How long one store operation may wait for the database before it fails as unavailable.
    public let timeout: Duration

    /// Event-loop-bound connections for ITEM.GET; nil to read through the pool only.
    let loopReaders: LoopReaders?
    /// Each event loop's own connections, for the commands sessions run on their loop; nil to
    /// use the shared pool only.
    public let loopPools: LoopPools?

    /// How many times a command is decided again without a lock when other commands keep
    /// moving its item; after that it takes the item's row lock and waits its turn.
    let optimisticAttempts: Int
    /// Commands that took the row lock after losing `optimisticAttempts` races (INFO's
    /// `contended_writes`).
    let lockedWrites = NIOLockedValueBox(0)
    /// Signalled after each command that committed events, for the sequencer.
    public let eventsWritten = EventsWritten()
    public var contendedWrites: Int { lockedWrites.withLockedValue { $0 } }

    /// `loopReads` opens a connection per event loop for ITEM.GET; `loopConnections`, with
    /// the most each loop opens, gives each loop its own connections for the commands run on
    /// it (`LoopPools`).
    public init(client: PostgresClient, logger: Logger, timeout: Duration = .seconds(10), loopReads: PostgresConnection.Configuration? = nil,
                loopConnections: (configuration: PostgresConnection.Configuration, perLoop: Int)? = nil, optimisticAttempts: Int = 8) {
        self.client = client
        self.optimisticAttempts = max(0, optimisticAttempts)
        self.logger = logger
        let queryLogger = logger.logLevel <= .debug ? logger : Logger(label: logger.label, factory: { _ in SwiftLogNoOpLogHandler() })
        self.queryLogger = queryLogger
        self.timeout = timeout
        loopReaders = loopReads.map { LoopReaders(configuration: $0, timeout: timeout, logger: queryLogger) }
        loopPools = loopConnections.map { LoopPools(configuration: $0.configuration, perLoop: $0.perLoop, connectTimeout: timeout, logger: queryLogger) }
    }

    /// Runs `body` with a connection: one of this event loop's own when the caller runs on a
    /// loop that has them (a session's command), otherwise one from the shared pool. While
    /// `body` runs the connection is the task's `held` one.
    ///
    /// A connection whose prepared statements no longer fit the tables (a column's type changed
    /// under them, in a migration during a rolling upgrade) is refused by PostgreSQL for as long
    /// as it lives, and only a new connection prepares them anew. It is closed, and `body` runs
    /// again on another connection. A transaction that was refused was rolled back, so nothing
    /// it did is kept. A `read` body's statements commit one by one, so such a body must not go
    /// on to a statement that can be refused after one that wrote (the optimistic apply
    /// returns as soon as its write commits); PostgreSQL refuses the statement at Bind, before
    /// it runs. Each attempt closes one stale connection; after `staleAttempts` the error is
    /// the caller's (`UNAVAILABLE ... try again`).
    func withConnection<T: Sendable>(_ body: @Sendable @escaping (PostgresConnection) async throws -> T) async throws -> T {
        let holding: @Sendable (PostgresConnection) async throws -> T = { connection in
            do {
                return try await Self.$held.withValue(connection) { try await body(connection) }
            } catch let error as PSQLError where Self.isStaleStatement(error) {
                try? await connection.close()
                throw error
            }
        }
        var attempt = 1
        while true {
            do {
                if let pool = loopPools?.current() {
                    return try await pool.withConnection(holding)
                }
                return try await client.withConnection(holding)
            } catch let error as PSQLError where Self.isStaleStatement(error) && attempt < Self.staleAttempts && !Task.isCancelled {
                attempt += 1
                logger.notice("a statement prepared before the tables changed was refused; its connection is closed, running again on another")
            }
        }
    }

    /// How many connections one store operation tries when each refuses a statement prepared
    /// before the tables changed: more than a pool holds with the default `--pool-size` (a
    /// loop's share, or the shared pool's 20). With a larger pool a command can meet this many
    /// stale connections in a row and answer `UNAVAILABLE ... try again`, as every command did
    /// before.
    static let staleAttempts = 32

    /// The connection the current task holds in `read` or `transaction`. A read nested in
    /// them (a workflow definition not cached yet, looked up in the middle of a command) runs
    /// on it rather than taking a second connection: with a loop's few connections each held
    /// by such a command, every one of them would wait for another forever.
    @TaskLocal static var held: PostgresConnection?

    /// Runs `body` in a transaction on one connection, keeping the body's own errors as they are.
    func transaction<T: Sendable>(begin: PostgresQuery = "BEGIN", _ body: @Sendable @escaping (PostgresConnection) async throws -> T) async throws -> T {
        let queryLogger = self.queryLogger
        return try await mapErrors {
            try await self.withConnection { connection in
                try await connection.query(begin, logger: queryLogger)
                do {
                    let result = try await body(connection)
                    try await connection.query("COMMIT", logger: queryLogger)
                    return result
                } catch {
                    _ = try? await connection.query("ROLLBACK", logger: queryLogger)
                    throw error
                }
            }
        }
    }

    /// Runs `body` in one read-only REPEATABLE READ transaction: several queries, one snapshot.
    func snapshot<T: Sendable>(_ body: @Sendable @escaping (PostgresConnection) async throws -> T) async throws -> T {
        try await transaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", body)
    }

    /// `SELECT 1` on a pooled connection, within the store's timeout: the health check.
    public func ping() async throws {
        try await read { connection in
            for try await _ in try await connection.query("SELECT 1", logger: self.queryLogger) {}
        }
    }

    /// Runs `body` on a pooled connection.
    func read<T: Sendable>(_ body: @Sendable @escaping (PostgresConnection) async throws -> T) async throws -> T {
        if let held = Self.held { return try await body(held) }
        return try await mapErrors { try await self.withConnection(body) }
    }

    /// Turns connection failures into `StoreError.unavailable` and constraint violations into
    /// `invalid`, so callers see the protocol's error classes.
    func mapErrors<T: Sendable>(_ body: @Sendable @escaping () async throws -> T) async throws -> T {
        do {
            return try await withDeadline(body)
        } catch let error as StoreError {
            throw error
        } catch let error as IdempotencyRace {
            throw error
        } catch let error as PSQLError {
            throw Self.translate(error)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw StoreError.unavailable(String(describing: error))
        }
    }

    static func translate(_ error: PSQLError) -> StoreError {
        if error.code == .server, let state = error.serverInfo?[.sqlState] {
            return translate(sqlState: state, message: error.serverInfo?[.message], detail: error.serverInfo?[.detail])
        }
        return .unavailable(String(describing: error.code))
    }

    /// A server error as PostgresNIO's older interface reports it (prepared statements run
    /// from an event loop, `LoopReader`).
    static func translate(_ error: PostgresError) -> StoreError {
        if case let .server(e) = error, let state = e.fields[.sqlState] {
            return translate(sqlState: state, message: e.fields[.message], detail: e.fields[.detail])
        }
        return .unavailable(error.description)
    }

    static func translate(sqlState state: String, message: String?, detail: String?) -> StoreError {
        let message = message ?? "database error"
        switch state {
        case "23505": return .invalid("already exists: \(detail ?? message)")
        case "23503": return .notFound(detail ?? message)
        case "23514", "22P02", "22001", "22021", "54000": return .invalid(message)
        case "42501": return .noPermission(message)
        // A deadlock, a serialization failure, a lock not granted within lock_timeout: the
        // transaction was rolled back and nothing was written; trying again can succeed.
        case "40P01", "40001", "55P03": return .unavailable("\(message); nothing was written, try again")
        // A statement prepared before a migration changed a column's type under it, on every
        // connection `withConnection` tried; each was closed, so the next attempt prepares anew.
        case "0A000" where isStaleStatement(sqlState: state, message: message):
            return .unavailable("\(message): the tables changed under a prepared statement; try again")
        // Connection exceptions, insufficient resources, operator intervention (shutdown,
        // statement cancelled), system errors: the database is not there to answer.
        case let s where s.hasPrefix("08") || s.hasPrefix("53") || s.hasPrefix("57") || s.hasPrefix("58"):
            return .unavailable(message)
        default: return .invalid("\(message) (SQLSTATE \(state))")
        }
    }

    /// PostgreSQL's answer to a prepared statement whose result columns changed type since
    /// it was prepared: it stays refused until the statement is prepared again.
    static func isStaleStatement(sqlState: String?, message: String?) -> Bool {
        sqlState == "0A000" && (message ?? "").hasPrefix("cached plan must not change result type")
    }

    static func isStaleStatement(_ error: PSQLError) -> Bool {
        isStaleStatement(sqlState: error.serverInfo?[.sqlState], message: error.serverInfo?[.message])
    }

    static func isUniqueViolation(_ error: any Error, constraint: String) -> Bool {
        guard let error = error as? PSQLError else { return false }
        return error.serverInfo?[.sqlState] == "23505" && error.serverInfo?[.constraintName] == constraint
    }
}

/// Another transaction committed the same idempotency key first: run again to return its answer.
struct IdempotencyRace: Error {}

struct DeadlineExceeded: Error {}

extension Store {
    /// Runs `body`, failing with `unavailable` when it takes longer than `timeout` (a pool
    /// waiting for a database that went away would otherwise wait forever).
    ///
    /// The answer does not wait for `body` to end: a query on a connection whose server froze
    /// or whose network went silent does not notice cancellation, and a task group would wait
    /// for it. `body` runs in its own task, cancelled at the deadline (or when the caller is),
    /// and finishes in the background whenever the connection gives up.
    func withDeadline<T: Sendable>(_ body: @Sendable @escaping () async throws -> T) async throws -> T {
        let timeout = self.timeout
        let race = DeadlineRace<T>()
        do {
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                    race.begin(continuation)
                    // Started on an event loop (a session's command), the work and its timer stay
                    // on that loop.
                    let executor = EventLoopExecutor.current
                    let work = Task(executorPreference: executor) {
                        do { race.finish(.success(try await body())) } catch { race.finish(.failure(error)) }
                    }
                    // A timer on an event loop, not a sleeping task: this runs for every command.
                    let loop = executor?.loop ?? MultiThreadedEventLoopGroup.singleton.next()
                    let timer = loop.scheduleTask(in: TimeAmount(timeout)) {
                        race.finish(.failure(DeadlineExceeded()))
                    }
                    race.tasks(work: work, timer: timer)
                }
            } onCancel: {
                race.cancel()
            }
        } catch is DeadlineExceeded {
            throw StoreError.unavailable("no answer from PostgreSQL within \(timeout)")
        }
    }
}

/// The first of a store operation's result, its deadline and its caller's cancellation wins;
/// the others are cancelled.
final class DeadlineRace<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, any Error>?
    private var done = false
    private var cancelled = false
    private var work: Task<Void, Never>?
    private var timer: Scheduled<Void>?

    func begin(_ continuation: CheckedContinuation<T, any Error>) {
        lock.withLock { self.continuation = continuation }
    }

    func tasks(work: Task<Void, Never>, timer: Scheduled<Void>) {
        let (finished, cancelled) = lock.withLock { () -> (Bool, Bool) in
            self.work = work
            self.timer = timer
            return (done, self.cancelled)
        }
        if finished { timer.cancel() }
        if finished || cancelled { work.cancel() }
    }

    /// Resumes the caller with `result` unless something else did first.
    func finish(_ result: Result<T, any Error>) {
        let (continuation, work, timer) = lock.withLock { () -> (CheckedContinuation<T, any Error>?, Task<Void, Never>?, Scheduled<Void>?) in
            guard !done else { return (nil, nil, nil) }
            done = true
            defer { self.continuation = nil }
            return (self.continuation, self.work, self.timer)
        }
        guard let continuation else { return }
        timer?.cancel()
        if case .failure = result { work?.cancel() }
        continuation.resume(with: result)
    }

    /// The caller was cancelled: cancel the work, which then ends the race.
    func cancel() {
        let work = lock.withLock { () -> Task<Void, Never>? in
            cancelled = true
            return self.work
        }
        work?.cancel()
    }
}
