import DocketTestSupport
@testable import DocketStore
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
@testable import PostgresNIO
import Testing

/// Each event loop's own connections (`LoopPools`) and the executor that keeps a command on
/// its loop (`EventLoopExecutor`), against the test cluster.
@Suite("Event loops' own connections")
struct LoopPoolTests {
    static func pools(_ url: DatabaseURL, perLoop: Int) throws -> LoopPools {
        LoopPools(configuration: try url.connectionConfiguration(), perLoop: perLoop, connectTimeout: .seconds(10), logger: TestDatabase.logger)
    }

    /// A test database, pools with `perLoop` connections a loop, and one loop's pool; the
    /// pools are closed after `body`.
    static func withPool(perLoop: Int, _ body: @Sendable (DatabaseURL, LoopPools, LoopPool) async throws -> Void) async throws {
        try await TestDatabase.withDatabase { url in
            let pools = try Self.pools(url, perLoop: perLoop)
            defer { pools.close() }
            try await body(url, pools, try #require(pools.pool(on: MultiThreadedEventLoopGroup.singleton.next())))
        }
    }

    /// Whether `wait` returns within `limit` (false, without waiting for it, when it does not).
    static func settles(within limit: TimeAmount, on loop: any EventLoop, _ wait: @escaping @Sendable () async -> Void) async -> Bool {
        await withCheckedContinuation { continuation in
            let done = NIOLockedValueBox(false)
            @Sendable func finish(_ settled: Bool) {
                if done.withLockedValue({ done in defer { done = true }; return !done }) { continuation.resume(returning: settled) }
            }
            Task {
                await wait()
                finish(true)
            }
            loop.scheduleTask(in: limit) { finish(false) }
        }
    }

    static func backend(_ connection: PostgresConnection) async throws -> Int32 {
        for try await (pid,) in try await connection.query("SELECT pg_backend_pid()", logger: TestDatabase.logger).decode(Int32.self) {
            return pid
        }
        throw StoreError.unavailable("no backend pid")
    }

    @Test func aTaskOnALoopsExecutorStaysOnThatLoopAcrossItsQueries() async throws {
        try await TestDatabase.withDatabase { url in
            let pools = try Self.pools(url, perLoop: 2)
            defer { pools.close() }
            let loop = MultiThreadedEventLoopGroup.singleton.next()
            let (name, before, after) = try await Task(executorPreference: EventLoopExecutor.on(loop)) {
                let before = loop.inEventLoop
                guard let pool = pools.current() else { throw StoreError.unavailable("no pool for the loop the task runs on") }
                #expect(pool === pools.pool(on: loop))
                let name = try await pool.withConnection { connection -> String in
                    #expect(connection.eventLoop === loop)
                    for try await (name,) in try await connection.query("SELECT current_setting('application_name')", logger: TestDatabase.logger)
                        .decode(String.self) {
                        return name
                    }
                    return ""
                }
                return (name, before, loop.inEventLoop)
            }.value
            #expect(before && after)
            #expect(name == LoopPools.applicationName)
            #expect(pools.open == 1)
            // Off the loops there is no pool: the shared one is used.
            #expect(pools.current() == nil)
        }
    }

    @Test func aLoopOpensAtMostItsShareAndAWaiterGetsTheNextOneBack() async throws {
        try await Self.withPool(perLoop: 2) { url, pools, pool in
            let first = try await pool.lease().get()
            let second = try await pool.lease().get()
            #expect(first !== second)
            let third = pool.lease()
            #expect(pools.open == 2)
            pool.give(back: second, reusable: true)
            #expect(try await third.get() === second)
            pool.give(back: first, reusable: true)
            pool.give(back: second, reusable: true)
            // Idle connections are lent again rather than new ones opened.
            let again = try await pool.lease().get()
            #expect(again === first || again === second)
            pool.give(back: again, reusable: true)
            #expect(pools.open == 2)
        }
    }

    @Test func aConnectionLeftInAnUnknownStateIsClosedAndAWaiterGetsANewOne() async throws {
        try await Self.withPool(perLoop: 1) { url, pools, pool in
            let first = try await pool.lease().get()
            let oldBackend = try await Self.backend(first)
            let waiter = pool.lease()
            pool.give(back: first, reusable: false)
            let next = try await waiter.get()
            #expect(next !== first)
            #expect(try await Self.backend(next) != oldBackend)
            try await first.closeFuture.get()
            #expect(pools.open == 1)
            pool.give(back: next, reusable: true)
        }
    }

    @Test func aConnectionTheServerEndedIsNotLentAgain() async throws {
        try await Self.withPool(perLoop: 2) { url, pools, pool in
            let connection = try await pool.lease().get()
            let backend = try await Self.backend(connection)
            pool.give(back: connection, reusable: true)
            _ = try await DatabaseLocation.withClient(url: url, maximumConnections: 1, logger: TestDatabase.logger) { client in
                try await client.query("SELECT pg_terminate_backend(\(backend))", logger: TestDatabase.logger)
            }
            try await connection.closeFuture.get()
            let next = try await pool.lease().get()
            #expect(next !== connection)
            #expect(try await Self.backend(next) != backend)
            #expect(pools.open == 1)
            pool.give(back: next, reusable: true)
        }
    }

    @Test func closedPoolsLendNothingAndCloseWhatComesBack() async throws {
        try await TestDatabase.withDatabase { url in
            let pools = try Self.pools(url, perLoop: 1)
            let loop = MultiThreadedEventLoopGroup.singleton.next()
            let pool = try #require(pools.pool(on: loop))
            let connection = try await pool.lease().get()
            let waiter = pool.lease()
            pools.close()
            await #expect(throws: StoreError.unavailable("the server is shutting down")) { try await waiter.get() }
            await #expect(throws: StoreError.unavailable("the server is shutting down")) { try await pool.lease().get() }
            #expect(pools.pool(on: loop) == nil)
            pool.give(back: connection, reusable: true)
            try await connection.closeFuture.get()
            #expect(pool.openCount.withLockedValue { $0 } == 0)
        }
    }

    @Test func onlyAFailureThatLeavesTheConnectionReadyLetsItBeLentAgain() {
        func server(_ state: String) -> PSQLError {
            .server(.init(fields: [.sqlState: state, .message: "it failed"]))
        }
        #expect(LoopPool.reusable(after: StoreError.notFound("item TP-1")))
        #expect(LoopPool.reusable(after: IdempotencyRace()))
        #expect(LoopPool.reusable(after: server("23505")))
        #expect(!LoopPool.reusable(after: server("57P01")))
        #expect(!LoopPool.reusable(after: server("08006")))
        #expect(!LoopPool.reusable(after: PSQLError.uncleanShutdown))
        #expect(!LoopPool.reusable(after: CancellationError()))
    }

    @Test func eachLoopsShareOfThePoolSize() {
        #expect(LoopPools.perLoop(poolSize: 20, loops: 2) == 10)
        #expect(LoopPools.perLoop(poolSize: 20, loops: 8) == 2)
        #expect(LoopPools.perLoop(poolSize: 1, loops: 2) == 1)
    }

    @Test func aCommandCancelledWhileItWaitsLeavesTheQueueAndRunsNothing() async throws {
        try await Self.withPool(perLoop: 1) { _, pools, pool in
            let held = try await pool.lease().get()
            let waiting = Task(executorPreference: EventLoopExecutor.on(pool.loop)) {
                try await pool.withConnection { _ in Issue.record("a cancelled command ran") }
            }
            try await Task.sleep(for: .milliseconds(100))
            waiting.cancel()
            // It leaves the queue at once, not when a connection comes back.
            #expect(await Self.settles(within: .seconds(5), on: pool.loop) { _ = try? await waiting.value })
            pool.give(back: held, reusable: true)
            await #expect(throws: CancellationError.self) { try await waiting.value }
            // The connection given back went idle, not to the cancelled command.
            let again = try await pool.lease().get()
            #expect(again === held)
            pool.give(back: again, reusable: true)
            #expect(pools.open == 1)
        }
    }

    @Test func aConnectionThatFailsToOpenDoesNotStrandTheCommandsQueuedBehindIt() async throws {
        let nowhere = PostgresConnection.Configuration(unixSocketPath: "/nonexistent-docket-socket/.s.PGSQL.5432", username: "docket",
                                                       password: nil, database: "docket")
        let pools = LoopPools(configuration: nowhere, perLoop: 1, connectTimeout: .seconds(2), logger: TestDatabase.logger)
        defer { pools.close() }
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let pool = try #require(pools.pool(on: loop))
        // Both asked in one turn of the loop: the second waits behind the first's connect.
        let (first, second) = try await loop.submit { (pool.lease(), pool.lease()) }.get()
        await #expect(throws: (any Error).self) { try await first.get() }
        // Alone this takes milliseconds; the bound is wide because the loop is the shared
        // singleton, which the whole suite keeps busy (it once took over 10 s there).
        #expect(await Self.settles(within: .seconds(30), on: loop) { _ = try? await second.get() }, "the second lease still waits")
        await #expect(throws: (any Error).self) { try await second.get() }
        #expect(pools.open == 0)
    }

    /// A store whose commands, run on `loop`, take `perLoop` connections of the loop's own.
    static func withLoopStore(perLoop: Int, timeout: Duration, _ body: @Sendable (Store, any EventLoop) async throws -> Void) async throws {
        try await TestDatabase.withDatabase { url in
            try await DatabaseLocation.withClient(url: url, maximumConnections: 2, logger: TestDatabase.logger) { client in
                let store = Store(client: client, logger: TestDatabase.logger, timeout: timeout,
                                  loopConnections: (try url.connectionConfiguration(), perLoop))
                defer { store.closeLoopConnections() }
                try await body(store, MultiThreadedEventLoopGroup.singleton.next())
            }
        }
    }

    @Test func aReadNestedInACommandsOwnRunsOnTheConnectionItHolds() async throws {
        try await Self.withLoopStore(perLoop: 1, timeout: .seconds(5)) { store, loop in
            let (outer, inner) = try await Task(executorPreference: EventLoopExecutor.on(loop)) {
                try await store.read { connection in
                    let outer = try await Self.backend(connection)
                    // With one connection a loop, a second lease would wait until the deadline.
                    let inner = try await store.read { try await Self.backend($0) }
                    return (outer, inner)
                }
            }.value
            #expect(outer == inner)
            #expect(store.loopPools?.open == 1)
        }
    }

    @Test func aQueryPastItsDeadlineGivesItsConnectionUp() async throws {
        try await Self.withLoopStore(perLoop: 1, timeout: .seconds(1)) { store, loop in
            let (stuck, next) = try await Task(executorPreference: EventLoopExecutor.on(loop)) {
                var stuck: Result<Void, any Error> = .success(())
                do {
                    try await store.read { connection in
                        for try await _ in try await connection.query("SELECT pg_sleep(5)", logger: TestDatabase.logger) {}
                    }
                } catch {
                    stuck = .failure(error)
                }
                // The loop's one connection was closed at the deadline, not kept by the
                // query still running: the next command gets a new one within its own.
                let next = try await store.read { try await Self.backend($0) }
                return (stuck, next)
            }.value
            guard case let .failure(error) = stuck, case .unavailable = error as? StoreError else {
                Issue.record("the query past its deadline answered \(stuck)")
                return
            }
            #expect(next > 0)
        }
    }
}
