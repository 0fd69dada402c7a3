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
    /// The readers by event loop; none once closed, so no connection is opened after that.
    private let readers = PerLoop<LoopReader>()
    /// Reads answered on a loop's own connection (INFO's `loop_reads`).
    let reads = NIOLockedValueBox(0)
    /// Queries those reads took (INFO's `loop_read_queries`): fewer when reads were batched.
    let queries = NIOLockedValueBox(0)

    /// How the loops' connections show in `pg_stat_activity`.
    public static let applicationName = "docket loop reader"

    public init(configuration: PostgresConnection.Configuration, timeout: Duration, logger: Logger) {
        var configuration = configuration
        configuration.options.additionalStartupParameters.append(("application_name", Self.applicationName))
        // The prepared read is planned once: a custom plan per query (which PostgreSQL keeps
        // choosing when a batch of few ids looks cheaper than the generic plan's guess) was
        // nearly half of the backend's time. The generic plan is the primary key's index scan.
        configuration.options.additionalStartupParameters.append(("plan_cache_mode", "force_generic_plan"))
        configuration.options.connectTimeout = TimeAmount(min(timeout, .seconds(10)))
        self.configuration = configuration
        self.timeout = TimeAmount(timeout)
        self.logger = logger
    }

    /// The loop's reader; nil after `close()`.
    func reader(on loop: any EventLoop) -> LoopReader? {
        readers.value(on: loop) { LoopReader(loop: $0, owner: self) }
    }

    /// Closes every loop's connection (at shutdown); later reads take the pooled path.
    public func close() {
        readers.close { $0.close() }
    }
}

/// One event loop's connection. Its state is touched on that loop only.
///
/// Reads are batched: while one query is out, the ids asked for meanwhile wait, and go
/// together in the next query (`WHERE id = ANY(...)`) when it returns. A query is sent at the
/// end of the event loop's turn, not at the read that starts it: the requests of every
/// connection that became readable in the same turn go in one query. A lone read is still
/// one query without waiting for anything else. Under load PostgreSQL answers once for many
/// reads instead of once each, and the connection is never idle while reads wait. Every read
/// is sent after it was asked, so it sees every write acknowledged before it arrived.
final class LoopReader: @unchecked Sendable {
    let loop: any EventLoop
    let owner: LoopReaders
    private var connection: PostgresConnection?
    /// The read, prepared on `connection` when it opened.
    private var statement: PreparedQuery?
    private var connecting = false
    private var closed = false
    private var nextAttempt = NIODeadline.uptimeNanoseconds(0)
    /// Reads waiting for the query out now to return.
    private var waiting: [(id: String, reply: Reply)] = []
    /// The reads of the query out now; nil when none is.
    private var inFlight: Batch?
    /// A send is scheduled for the end of the loop's turn.
    private var sendScheduled = false

    /// The most ids one query asks for.
    static let maxBatch = 64

    /// The reads one query answers, and the rows it has returned so far. Touched on its loop
    /// only (the rows arrive there).
    final class Batch: @unchecked Sendable {
        let reads: [(id: String, reply: Reply)]
        /// In the order PostgreSQL returned them. A batch asks for at most `maxBatch` ids, so a
        /// scan finds a row for less than hashing its id into a dictionary would cost.
        var rows: [ItemSnapshot] = []
        init(_ reads: [(id: String, reply: Reply)]) {
            self.reads = reads
            rows.reserveCapacity(reads.count)
        }
        func row(_ id: String) -> ItemSnapshot? { rows.firstIndex { $0.id == id }.map { rows[$0] } }
        func fail(_ error: any Error) { for read in reads { read.reply(.failure(error)) } }
    }

    /// The read, prepared (a protocol-level named statement) on each loop connection as it
    /// opens. PostgreSQL then parses and plans it once per connection, and each query is a Bind
    /// and an Execute: no Parse, and no row description for PostgresNIO to decode each time.
    /// (Sent unnamed, it was parsed and planned for every query, which took longer than running
    /// it; `EXECUTE` in SQL still had the wrapper parsed and described each time.)
    static let query = "SELECT \(ItemRow.replyColumns) FROM items WHERE id = ANY($1)"

    /// The statement's parameter: the ids as a `text[]`, in binary (PostgresNIO binds every
    /// parameter in binary).
    static func idsParameter(_ ids: [String]) -> PostgresData {
        var buffer = ByteBufferAllocator().buffer(capacity: 20 + ids.count * 12)
        ids.encode(into: &buffer, context: .default)
        return PostgresData(type: .textArray, formatCode: .binary, value: buffer)
    }

    /// Whether `id` is one an item can have (letters, digits and `-`, at most 64 bytes): any
    /// other id takes the pooled path, which answers it as the store does.
    static func isPlain(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 64 && id.utf8.allSatisfy { byte in
            (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) || (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")) || byte == UInt8(ascii: "-")
        }
    }

    init(loop: any EventLoop, owner: LoopReaders) {
        self.loop = loop
        self.owner = owner
    }

    /// How a read answers: item `id` as `ItemRow.replyColumns` has it, nil when there is none.
    typealias Reply = (Result<ItemSnapshot?, any Error>) -> Void

    /// Reads item `id` on this loop and answers `reply` there, always later, never within this
    /// call. False when it cannot: no connection is open (one is being opened) or the id is not
    /// one an item can have; the caller then takes the pooled path. The reply fails with
    /// `StoreError.unavailable` when PostgreSQL does not answer within the timeout (the
    /// connection is then closed, so a frozen server is not asked again), and with
    /// `NeedsPooledRead` when the connection is lost under the read.
    ///
    /// A callback rather than a future: a future, its promise and the two more that mapping
    /// it builds were allocated, and their generic metadata looked up, for every ITEM.GET.
    func item(_ id: String, _ reply: @escaping Reply) -> Bool {
        loop.preconditionInEventLoop()
        guard let connection, statement != nil, !connection.isClosed else {
            // Set and cleared together; a closed connection needs no closing.
            self.connection = nil
            statement = nil
            open()
            return false
        }
        guard Self.isPlain(id) else { return false }
        waiting.append((id, reply))
        scheduleSend()
        return true
    }

    /// Sends the waiting reads as one query.
    private func send(on connection: PostgresConnection, _ statement: PreparedQuery) {
        let count = min(waiting.count, Self.maxBatch)
        let batch = Batch(Array(waiting.prefix(count)))
        waiting.removeFirst(count)
        inFlight = batch
        let late = StoreError.unavailable("PostgreSQL did not answer within \(owner.timeout.nanoseconds / 1_000_000) ms")
        let timer = loop.scheduleTask(in: owner.timeout) {
            guard self.inFlight === batch else { return }
            self.inFlight = nil
            // Dropped first: the failures' callbacks may ask for the next read at once, and
            // it must not go to this connection.
            self.drop(connection)
            batch.fail(late)
        }
        statement.execute([Self.idsParameter(batch.reads.map(\.id))]) { row in
            batch.rows.append(try ItemRow.replySnapshot(row))
        }.whenComplete { result in
            timer.cancel()
            guard self.inFlight === batch else { return }
            self.inFlight = nil
            switch result {
            case .success:
                self.owner.reads.withLockedValue { $0 += batch.reads.count }
                self.owner.queries.withLockedValue { $0 += 1 }
                // The answers wait for the end of the loop's turn, with the next query: it goes
                // out first (the reads that arrived meanwhile, and those read in this turn), so
                // PostgreSQL works on it while the loop writes these replies, instead of idling
                // until they are all written.
                self.sendScheduled = true
                self.loop.execute {
                    self.sendScheduled = false
                    self.sendWaiting()
                    for read in batch.reads { read.reply(.success(batch.row(read.id))) }
                }
                return
            case let .failure(error):
                if connection.isClosed || Self.lostConnection(error) {
                    // The connection went away under the query (the server ended the backend:
                    // a restart, a failover, pg_terminate_backend): the pooled path answers
                    // these reads, and the loop reconnects later.
                    self.drop(connection)
                    batch.fail(NeedsPooledRead())
                } else if let error = error as? PSQLError {
                    batch.fail(Store.translate(error))
                } else if let error = error as? PostgresError {
                    batch.fail(Store.translate(error))
                } else if error is StoreError {
                    batch.fail(error)
                } else {
                    // A row that could not be decoded (PostgresDecodingError).
                    batch.fail(StoreError.unavailable("an item row could not be read: \(error)"))
                }
            }
            self.scheduleSend()
        }
    }

    /// Sends the waiting reads once the loop has handled everything that is ready now: the
    /// requests read in this turn (and any replies it answers) go in one query.
    private func scheduleSend() {
        guard inFlight == nil, !sendScheduled, !waiting.isEmpty else { return }
        sendScheduled = true
        loop.execute {
            self.sendScheduled = false
            self.sendWaiting()
        }
    }

    /// Sends what waited behind the query that just ended, or hands it to the pooled path when
    /// that query's connection is gone.
    private func sendWaiting() {
        guard inFlight == nil, !waiting.isEmpty else { return }
        if let connection, let statement, !connection.isClosed {
            send(on: connection, statement)
        } else {
            let stranded = waiting
            waiting = []
            for read in stranded { read.reply(.failure(NeedsPooledRead())) }
        }
    }

    /// Errors that end this connection rather than this query: the failure arrives before
    /// the channel is seen closed (a FATAL from the server fails the query first, and a reset
    /// fails it before the channel closes). Also the errors that make the connection's
    /// prepared statement useless for good: a row it cannot read (`BinaryCells.RowError`: the
    /// table's columns changed under it, or PostgresNIO's format did) and a plan that must
    /// change its result type (`Store.isStaleStatement`, after a migration). The reads then go
    /// to the pool, and the connection opened next prepares the statement anew.
    static func lostConnection(_ error: any Error) -> Bool {
        switch error {
        case is BinaryCells.RowError:
            return true
        // The prepared statement's errors come in PostgresNIO's older form.
        case let error as PostgresError:
            guard case let .server(e) = error else { return true }
            let state = e.fields[.sqlState]
            return endsConnection(sqlState: state) || Store.isStaleStatement(sqlState: state, message: e.fields[.message])
        case let error as PSQLError:
            if [.serverClosedConnection, .clientClosedConnection, .connectionError, .uncleanShutdown].contains(error.code) { return true }
            let state = error.serverInfo?[.sqlState]
            return endsConnection(sqlState: state) || Store.isStaleStatement(sqlState: state, message: error.serverInfo?[.message])
        case is StoreError, is PostgresDecodingError:
            return false
        default:
            // The older form hands a connection's own failure on as it is: an IOError (a
            // reset), a ChannelError.
            return true
        }
    }

    /// Connection exceptions and the server shutting the backend down (`57P01`-`57P05`).
    static func endsConnection(sqlState: String?) -> Bool {
        guard let state = sqlState else { return false }
        return state.hasPrefix("08") || state.hasPrefix("57P0")
    }

    private func open() {
        guard !connecting, !closed, NIODeadline.now() >= nextAttempt else { return }
        connecting = true
        // `self` is held until the attempt ends, so a connection that opens after close() is
        // still closed here and never dropped open.
        let logger = owner.logger
        PostgresConnection.connect(on: loop, configuration: owner.configuration, id: 0, logger: logger).flatMap { connection in
            connection.prepare(query: Self.query)
                .map { (connection, $0) }
                .flatMapError { error in connection.close().flatMapThrowing { throw error } }
        }.whenComplete { result in
            self.connecting = false
            switch result {
            case let .success((connection, statement)):
                if self.closed {
                    let _: EventLoopFuture<Void> = connection.close()
                    return
                }
                self.connection = connection
                self.statement = statement
            case .failure:
                self.nextAttempt = .now() + .seconds(1)
            }
        }
    }

    private func drop(_ connection: PostgresConnection) {
        if self.connection === connection {
            self.connection = nil
            statement = nil
        }
        nextAttempt = .now() + .seconds(1)
        let _: EventLoopFuture<Void> = connection.close()
        sendWaiting()
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
    /// What `itemOnLoop` answers. An enum of its own rather than a `Result` of a tuple, which
    /// was copied through the generic value witnesses of both, field by field, on every GET.
    public enum LoopRead: Sendable {
        case item(ItemSnapshot, WorkflowDefinition)
        case failed(any Error)
    }

    /// ITEM.GET on the calling event loop (see `LoopReaders`): answers `reply` there, later,
    /// with the item as `actor` may see it and its workflow definition. The snapshot holds what
    /// ITEM.GET's reply and visibility need (`ItemRow.replyColumns`): its votes, endorsements
    /// and milestones are empty. False when that loop cannot read it (no open connection, an
    /// id no item can have); it answers `.failed(NeedsPooledRead())` when the definition is not
    /// cached yet or the connection was lost under the read. Either way the pooled path answers
    /// instead.
    public func itemOnLoop(_ id: String, actor: Actor, on loop: any EventLoop, _ reply: @escaping (LoopRead) -> Void) -> Bool {
        guard let reader = loopReaders?.reader(on: loop) else { return false }
        return reader.item(id) { result in
            switch result {
            case let .success(.some(item)):
                guard let definition = self.cachedDefinition(item.workflow, version: item.workflowVersion) else { return reply(.failed(NeedsPooledRead())) }
                guard Engine.canSee(definition, item, actor: actor) else { return reply(.failed(StoreError.notFound("item \(id)"))) }
                reply(.item(item, definition))
            case .success(.none):
                reply(.failed(StoreError.notFound("item \(id)")))
            case let .failure(error):
                reply(.failed(error))
            }
        }
    }

    /// A definition already parsed, without asking the database.
    public func cachedDefinition(_ name: String, version: Int) -> WorkflowDefinition? {
        definitions.withLockedValue { $0[DefinitionKey(name: name, version: version)] }
    }

    /// Closes the event loops' own connections (when the server stops).
    public func closeLoopConnections() {
        loopReaders?.close()
        loopPools?.close()
    }

    /// Reads answered on an event loop's own connection so far.
    public var loopReads: Int { loopReaders?.reads.withLockedValue { $0 } ?? 0 }

    /// Queries the loop reads took so far (several reads that arrive together share one).
    public var loopReadQueries: Int { loopReaders?.queries.withLockedValue { $0 } ?? 0 }
}
