import DocketCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import PostgresNIO

/// Reads answered without leaving the event loop that asked: one PostgreSQL connection per
/// event loop, opened on that loop. The request, the query and the reply then all run on one
/// thread, with no task, no pool lease and no hand-off between threads (which is most of what
/// a pooled read costs here; see Benchmarks/RESULTS.md). ITEM.GET uses it.
///
/// When a loop has no open connection (not opened yet, or the database went away) the caller
/// takes the pooled path, which knows how to wait and to fail, and the connection is opened
/// again in the background, at most once a second.
public final class LoopReaders: Sendable {
    let configuration: PostgresConnection.Configuration
    let timeout: TimeAmount
    let logger: Logger
    /// The readers by event loop; nil once closed, so no connection is opened after that.
    private let readers = NIOLockedValueBox<[ObjectIdentifier: LoopReader]?>([:])
    /// Reads answered on a loop's own connection (INFO's `loop_reads`).
    let reads = NIOLockedValueBox(0)

    /// How the loops' connections show in `pg_stat_activity`.
    public static let applicationName = "docket loop reader"

    public init(configuration: PostgresConnection.Configuration, timeout: Duration, logger: Logger) {
        var configuration = configuration
        configuration.options.additionalStartupParameters.append(("application_name", Self.applicationName))
        configuration.options.connectTimeout = TimeAmount(min(timeout, .seconds(10)))
        self.configuration = configuration
        self.timeout = TimeAmount(timeout)
        self.logger = logger
    }

    /// The loop's reader; nil after `close()`.
    func reader(on loop: any EventLoop) -> LoopReader? {
        readers.withLockedValue { readers in
            let key = ObjectIdentifier(loop)
            if let reader = readers?[key] { return reader }
            guard readers != nil else { return nil }
            let reader = LoopReader(loop: loop, owner: self)
            readers?[key] = reader
            return reader
        }
    }

    /// Closes every loop's connection (at shutdown); later reads take the pooled path.
    public func close() {
        for reader in readers.withLockedValue({ r in defer { r = nil }; return Array((r ?? [:]).values) }) {
            reader.loop.execute { reader.close() }
        }
    }
}

/// One event loop's connection. Its state is touched on that loop only.
final class LoopReader: @unchecked Sendable {
    let loop: any EventLoop
    let owner: LoopReaders
    private var connection: PostgresConnection?
    private var connecting = false
    private var closed = false
    private var nextAttempt = NIODeadline.uptimeNanoseconds(0)

    init(loop: any EventLoop, owner: LoopReaders) {
        self.loop = loop
        self.owner = owner
    }

    /// The rows of `query`, on this loop; nil when no connection is open (one is being opened).
    /// Fails with `StoreError.unavailable` when PostgreSQL does not answer within the timeout
    /// (the connection is then closed, so a frozen server is not asked again).
    func rows(_ query: PostgresQuery) -> EventLoopFuture<[PostgresRow]>? {
        loop.preconditionInEventLoop()
        guard let connection, !connection.isClosed else {
            self.connection = nil
            open()
            return nil
        }
        let promise = loop.makePromise(of: [PostgresRow].self)
        let late = StoreError.unavailable("PostgreSQL did not answer within \(owner.timeout.nanoseconds / 1_000_000) ms")
        let timer = loop.scheduleTask(in: owner.timeout) {
            promise.fail(late)
            self.drop(connection)
        }
        connection.query(query, logger: owner.logger).whenComplete { result in
            timer.cancel()
            switch result {
            case let .success(answer):
                self.owner.reads.withLockedValue { $0 += 1 }
                promise.succeed(answer.rows)
            case let .failure(error):
                if connection.isClosed || Self.lostConnection(error) {
                    // The connection went away under the query (the server ended the backend:
                    // a restart, a failover, pg_terminate_backend): the pooled path answers
                    // this read, and the loop reconnects later.
                    self.drop(connection)
                    promise.fail(NeedsPooledRead())
                } else {
                    promise.fail((error as? PSQLError).map(Store.translate) ?? StoreError.unavailable(String(describing: error)))
                }
            }
        }
        return promise.futureResult
    }

    /// Errors that end this connection rather than this query: the failure arrives before
    /// the channel is seen closed (a FATAL from the server fails the query first).
    static func lostConnection(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError else { return false }
        if [.serverClosedConnection, .connectionError, .uncleanShutdown].contains(error.code) { return true }
        guard let state = error.serverInfo?[.sqlState] else { return false }
        return state.hasPrefix("08") || state.hasPrefix("57P0")
    }

    private func open() {
        guard !connecting, !closed, NIODeadline.now() >= nextAttempt else { return }
        connecting = true
        // `self` is held until the attempt ends, so a connection that opens after close() is
        // still closed here and never dropped open.
        PostgresConnection.connect(on: loop, configuration: owner.configuration, id: 0, logger: owner.logger).whenComplete { result in
            self.connecting = false
            switch result {
            case let .success(connection):
                if self.closed {
                    let _: EventLoopFuture<Void> = connection.close()
                    return
                }
                self.connection = connection
            case .failure:
                self.nextAttempt = .now() + .seconds(1)
            }
        }
    }

    private func drop(_ connection: PostgresConnection) {
        if self.connection === connection { self.connection = nil }
        nextAttempt = .now() + .seconds(1)
        let _: EventLoopFuture<Void> = connection.close()
    }

    func close() {
        closed = true
        if let connection { drop(connection) }
    }
}

/// The loop path could not answer by itself (a workflow definition not cached yet, or its
/// connection closed under the query): take the pooled path.
public struct NeedsPooledRead: Error {}

extension Store {
    /// ITEM.GET on the calling event loop (see `LoopReaders`): the item as `actor` may see it,
    /// with its workflow definition. Nil when that loop has no open connection; the future
    /// fails with `NeedsPooledRead` when the definition is not cached yet.
    public func itemOnLoop(_ id: String, actor: Actor, on loop: any EventLoop) -> EventLoopFuture<(ItemSnapshot, WorkflowDefinition)>? {
        guard let readers = loopReaders else { return nil }
        let query = PostgresQuery(unsafeSQL: LoadItemStatement.sql, binds: LoadItemStatement(id: id).makeBindings())
        guard let rows = readers.reader(on: loop)?.rows(query) else { return nil }
        return rows.flatMapThrowing { rows in
            guard let row = rows.first else { throw StoreError.notFound("item \(id)") }
            let item = try ItemRow(row).snapshot
            guard let definition = self.cachedDefinition(item.workflow, version: item.workflowVersion) else { throw NeedsPooledRead() }
            guard Engine.canSee(definition, item, actor: actor) else { throw StoreError.notFound("item \(id)") }
            return (item, definition)
        }
    }

    /// A definition already parsed, without asking the database.
    public func cachedDefinition(_ name: String, version: Int) -> WorkflowDefinition? {
        definitions.withLockedValue { $0["\(name)@\(version)"] }
    }

    /// Closes the event loops' own connections (when the server stops).
    public func closeLoopReads() { loopReaders?.close() }

    /// Reads answered on an event loop's own connection so far.
    public var loopReads: Int { loopReaders?.reads.withLockedValue { $0 } ?? 0 }
}
