import DocketClient
import DocketCore
import DocketServer
import DocketStore
import Foundation
import Logging
import NIOConcurrencyHelpers
import PostgresNIO

/// A real admin server on 127.0.0.1, port 0, on a fresh database of the test cluster.
public struct TestServer: Sendable {
    public let port: Int
    public let store: Store
    public let adminToken: String
    public let url: DatabaseURL
    /// This instance's scheduler; tests tick it after moving the clock.
    public let scheduler: Scheduler
    /// The server itself: its metrics, TLS reload.
    public let admin: AdminServer
    public var address: ServerAddress { ServerAddress(host: "127.0.0.1", port: port) }

    /// A client authenticated as `user` (admin by default), closed after `body`.
    public func withClient<T: Sendable>(user: String = "admin", token: String? = nil, resp3: Bool = false, tls: ClientTLS? = nil,
                                        _ body: @Sendable (DocketClient) async throws -> T) async throws -> T {
        let client = try await DocketClient.connect(to: address, tls: tls)
        do {
            var secret = adminToken
            if let token { secret = token } else if user != "admin" { secret = try await store.createToken(for: user) }
            if resp3 { try await client.hello(3, user: user, token: secret) } else { try await client.auth(user: user, token: secret) }
            let result = try await body(client)
            await client.close()
            return result
        } catch {
            await client.close()
            throw error
        }
    }

    /// Boots `count` servers sharing one fresh database, runs `body`, shuts them down.
    public static func withServers<T: Sendable>(
        count: Int = 1, clock: any DocketClock = SystemClock(), configure: @Sendable (inout ServerConfiguration) -> Void = { _ in },
        _ body: @Sendable ([TestServer]) async throws -> T
    ) async throws -> T {
        try await TestDatabase.withDatabase { url in
            let logger = TestDatabase.logger
            var clients: [PostgresClient] = []
            var servers: [AdminServer] = []
            var hubs: [EventHub] = []
            var configuration = ServerConfiguration()
            configuration.host = "127.0.0.1"
            configuration.port = 0
            configure(&configuration)
            for _ in 0..<count {
                let client = PostgresClient(configuration: url.clientConfiguration(maximumConnections: 20), backgroundLogger: logger)
                let loopConfiguration = try url.connectionConfiguration()
                let store = Store(client: client, logger: logger, timeout: .seconds(30), loopReads: loopConfiguration,
                                  loopConnections: (loopConfiguration, LoopPools.perLoop(poolSize: 20)))
                let hub = EventHub(store: store, logger: logger, interval: .milliseconds(10))
                clients.append(client)
                hubs.append(hub)
                servers.append(try AdminServer(configuration: configuration, store: store, hub: hub, clock: clock, logger: logger))
            }
            let (runningClients, runningServers, runningHubs) = (clients, servers, hubs)
            // The pools run outside, so they stop only after the servers, hubs and scheduler
            // that use them have stopped (a lease from a stopped pool would wait forever).
            return try await withThrowingTaskGroup(of: Void.self) { pools in
                await DatabaseLocation.startRunning(runningClients, in: &pools, returning: ())
                defer { pools.cancelAll() }
                return try await withThrowingTaskGroup(of: Void.self) { group in
                    for h in runningHubs { group.addTask { await h.run() } }
                    for s in runningServers { group.addTask { try await s.run() } }
                    defer { group.cancelAll() }
                    let first = Store(client: runningClients[0], logger: logger)
                    try await first.loadWorkflows(directory: TestDatabase.packageRoot.appendingPathComponent("Workflows"))
                    let token = try await first.bootstrapAdmin() ?? ""
                    var handles: [TestServer] = []
                    for (i, s) in runningServers.enumerated() {
                        let address = try await s.boundAddress()
                        let store = Store(client: runningClients[i], logger: logger)
                        let metrics = s.metrics
                        handles.append(TestServer(port: address.port ?? 0, store: store, adminToken: token, url: url,
                                                  scheduler: Scheduler(store: store, clock: clock, logger: logger) { metrics.timersFired($0) },
                                                  admin: s))
                    }
                    return try await body(handles)
                }
            }
        }
    }

    public static func with<T: Sendable>(clock: any DocketClock = SystemClock(), configure: @Sendable (inout ServerConfiguration) -> Void = { _ in },
                                         _ body: @Sendable (TestServer) async throws -> T) async throws -> T {
        try await withServers(count: 1, clock: clock, configure: configure) { try await body($0[0]) }
    }
}

/// A clock tests move by hand.
public final class ManualClock: DocketClock {
    private let current: NIOLockedValueBox<Date>
    public init(_ start: Date) { current = NIOLockedValueBox(start) }
    public func now() -> Date { current.withLockedValue { $0 } }
    public func advance(by seconds: TimeInterval) { current.withLockedValue { $0 = $0.addingTimeInterval(seconds) } }
    public func set(_ date: Date) { current.withLockedValue { $0 = date } }
}
