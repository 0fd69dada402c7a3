import Logging
import NIOConcurrencyHelpers
import NIOCore
import PostgresNIO

/// Connections for the commands sessions run on their event loop (`EventLoopExecutor`): each
/// loop keeps its own, opened on it, so a command's queries are written, answered and resumed
/// on the one thread that read the request and writes the reply.
///
/// The shared pool (`PostgresClient`) lends a connection on whichever loop it was opened, so
/// half the queries crossed to the other loop and back, and each lease and return started and
/// cancelled its keep-alive and idle timers, child tasks woken on the cooperative pool. For a
/// transition that was about half of the server's context switches (Benchmarks/RESULTS.md).
///
/// A loop opens connections as its commands need them, up to `perLoop`; past that a command
/// waits for one to come back. A connection that a command left in an unknown state (its
/// query cancelled or timed out, the server gone) is closed rather than lent again.
public final class LoopPools: Sendable {
    let configuration: PostgresConnection.Configuration
    /// The most connections one loop opens.
    public let perLoop: Int
    let logger: Logger
    /// The pools by event loop; none once closed.
    private let pools = PerLoop<LoopPool>()

    /// How the loops' connections show in `pg_stat_activity`.
    public static let applicationName = "docket session"

    public init(configuration: PostgresConnection.Configuration, perLoop: Int, connectTimeout: Duration, logger: Logger) {
        var configuration = configuration
        configuration.options.additionalStartupParameters.append(("application_name", Self.applicationName))
        configuration.options.connectTimeout = TimeAmount(min(connectTimeout, .seconds(10)))
        self.configuration = configuration
        self.perLoop = max(1, perLoop)
        self.logger = logger
    }

    /// Each loop's share of `poolSize` connections for commands (at least one), the server's
    /// event loops splitting it evenly.
    public static func perLoop(poolSize: Int, loops: Int = NIOSingletons.groupLoopCountSuggestion) -> Int {
        max(1, poolSize / max(1, loops))
    }

    /// The pool of `loop`; nil after `close()`.
    func pool(on loop: any EventLoop) -> LoopPool? {
        pools.value(on: loop) { LoopPool(loop: $0, owner: self) }
    }

    /// The pool of the event loop this thread runs, if any.
    func current() -> LoopPool? {
        MultiThreadedEventLoopGroup.currentEventLoop.flatMap(pool(on:))
    }

    /// Connections open now, over every loop (leased or idle), for tests.
    public var open: Int {
        pools.all.reduce(0) { $0 + $1.openCount.withLockedValue { $0 } }
    }

    /// Closes every loop's idle connections and each leased one as it comes back (at
    /// shutdown); commands after that use the shared pool.
    public func close() {
        pools.close { $0.close() }
    }
}

/// One event loop's connections. Its state is touched on that loop only.
final class LoopPool: @unchecked Sendable {
    let loop: any EventLoop
    let owner: LoopPools
    private var idle: [PostgresConnection] = []
    /// Connections open or opening, lent or idle.
    private var count = 0
    /// `count`, readable from any thread.
    let openCount = NIOLockedValueBox(0)
    /// Commands waiting for a connection, first come first served.
    private var waiters = CircularBuffer<EventLoopPromise<PostgresConnection>>()
    private var closed = false
    /// The id of the last connection opened, for PostgresNIO's logs.
    private var nextID = 0

    init(loop: any EventLoop, owner: LoopPools) {
        self.loop = loop
        self.owner = owner
    }

    /// Runs `body` with a connection of this loop; called on this loop. A task cancelled
    /// while it waits for a connection (its deadline passed) leaves the queue and runs nothing;
    /// cancelled while `body` runs, it closes the connection, so a query that a frozen server
    /// never answers does not keep it.
    func withConnection<T>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try Task.checkCancellation()
        let leased = lease()
        let connection = try await withTaskCancellationHandler {
            try await leased.get()
        } onCancel: {
            self.loop.execute { self.abandon(leased) }
        }
        if Task.isCancelled {
            give(back: connection, reusable: true)
            throw CancellationError()
        }
        let result: T
        do {
            result = try await withTaskCancellationHandler {
                try await body(connection)
            } onCancel: {
                let _: EventLoopFuture<Void> = connection.close()
            }
        } catch {
            give(back: connection, reusable: Self.reusable(after: error))
            throw error
        }
        give(back: connection, reusable: true)
        return result
    }

    /// An idle connection, a new one while fewer than `perLoop` are open, or the next one given
    /// back.
    func lease() -> EventLoopFuture<PostgresConnection> {
        guard loop.inEventLoop else { return loop.flatSubmit { self.lease() } }
        if closed { return loop.makeFailedFuture(Self.shuttingDown) }
        while let connection = idle.popLast() {
            if !connection.isClosed { return loop.makeSucceededFuture(connection) }
            forget()
        }
        if count < owner.perLoop { return connect() }
        let promise = loop.makePromise(of: PostgresConnection.self)
        waiters.append(promise)
        return promise.futureResult
    }

    /// A waiting lease whose task was cancelled: out of the queue, failed.
    private func abandon(_ leased: EventLoopFuture<PostgresConnection>) {
        guard let index = waiters.firstIndex(where: { $0.futureResult === leased }) else { return }
        waiters.remove(at: index).fail(CancellationError())
    }

    /// Takes a connection back: lends it to the next waiter or keeps it idle; closes it when it
    /// is not `reusable`, and then opens another for a waiter.
    func give(back connection: PostgresConnection, reusable: Bool) {
        guard loop.inEventLoop else { return loop.execute { self.give(back: connection, reusable: reusable) } }
        guard reusable, !closed, !connection.isClosed else {
            if !connection.isClosed { let _: EventLoopFuture<Void> = connection.close() }
            forget()
            serveWaiter()
            return
        }
        if let waiter = waiters.popFirst() {
            waiter.succeed(connection)
        } else {
            idle.append(connection)
        }
    }

    /// A connection closed or failed to open: the first waiter, if any, gets a new one.
    private func serveWaiter() {
        guard count < owner.perLoop, let waiter = waiters.popFirst() else { return }
        if closed {
            waiter.fail(Self.shuttingDown)
        } else {
            connect().cascade(to: waiter)
        }
    }

    /// Opens a connection, counted as open until it fails to; a failure serves the next
    /// waiter, which would otherwise wait for a connection that is never given back.
    private func connect() -> EventLoopFuture<PostgresConnection> {
        count += 1
        openCount.withLockedValue { $0 += 1 }
        nextID += 1
        return PostgresConnection.connect(on: loop, configuration: owner.configuration, id: nextID, logger: owner.logger)
            .flatMapErrorThrowing { error in
                self.forget()
                self.serveWaiter()
                throw error
            }
    }

    static let shuttingDown = StoreError.unavailable("the server is shutting down")

    private func forget() {
        count -= 1
        openCount.withLockedValue { $0 -= 1 }
    }

    /// Whether a connection can be lent again after its command failed with `error`: the
    /// command's own refusals and the server's refusal of a statement leave it ready; a
    /// cancelled or timed-out query, or a lost connection, do not.
    static func reusable(after error: any Error) -> Bool {
        switch error {
        case is StoreError, is IdempotencyRace:
            return true
        case let error as PSQLError:
            return error.code == .server && !LoopReader.endsConnection(sqlState: error.serverInfo?[.sqlState])
        default:
            return false
        }
    }

    func close() {
        closed = true
        for connection in idle {
            let _: EventLoopFuture<Void> = connection.close()
            forget()
        }
        idle = []
        while let waiter = waiters.popFirst() { waiter.fail(Self.shuttingDown) }
    }
}
