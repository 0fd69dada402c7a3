import DocketTestSupport
@testable import DocketStore
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
        try await TestDatabase.withDatabase { url in
            let pools = try Self.pools(url, perLoop: 2)
            defer { pools.close() }
            let pool = try #require(pools.pool(on: MultiThreadedEventLoopGroup.singleton.next()))
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
        try await TestDatabase.withDatabase { url in
            let pools = try Self.pools(url, perLoop: 1)
            defer { pools.close() }
            let pool = try #require(pools.pool(on: MultiThreadedEventLoopGroup.singleton.next()))
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
        try await TestDatabase.withDatabase { url in
            let pools = try Self.pools(url, perLoop: 2)
            defer { pools.close() }
            let pool = try #require(pools.pool(on: MultiThreadedEventLoopGroup.singleton.next()))
            let connection = try await pool.lease().get()
            let backend = try await Self.backend(connection)
            pool.give(back: connection, reusable: true)
            try await DatabaseLocation.withClient(url: url, maximumConnections: 1, logger: TestDatabase.logger) { client in
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
            #expect(pools.open == 0)
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
        #expect(LoopPools.perLoop(poolSize: 1, loops: 2) == 2)
    }
}
