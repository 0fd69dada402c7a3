import DocketCore
import Foundation
import Logging
import PostgresNIO

/// Where Docket's data lives: a configured PostgreSQL, or the embedded cluster under the
/// data directory when none is configured.
public struct DatabaseLocation: Sendable {
    /// `--database-url` or `DOCKET_DATABASE_URL`; nil selects the embedded cluster.
    public var url: String?
    /// `--data-dir`, default `.docket`.
    public var dataDirectory: String
    /// Extra settings for the embedded cluster (tests turn fsync off).
    public var embeddedSettings: [String: String]
    public var maximumConnections: Int

    public init(url: String? = nil, dataDirectory: String = ".docket", embeddedSettings: [String: String] = [:], maximumConnections: Int = 20) {
        self.url = url
        self.dataDirectory = dataDirectory
        self.embeddedSettings = embeddedSettings
        self.maximumConnections = maximumConnections
    }

    /// Starts the embedded cluster if needed, connects, runs `body` with a ready store, then
    /// closes the pool and stops the cluster if this call started it.
    public func withStore<T: Sendable>(
        logger: Logger, migrate: Bool = true, _ body: @Sendable (Store, DatabaseURL) async throws -> T
    ) async throws -> T {
        let (url, embedded) = try await resolve(logger: logger)
        do {
            let result = try await Self.withClient(url: url, maximumConnections: maximumConnections, logger: logger) { client in
                let store = Store(client: client, logger: logger)
                // A database that cannot be reached is an error within the store's timeout, not a wait forever.
                try await store.ping()
                if migrate { try await Migrator(directory: Migrator.defaultDirectory()).migrate(client, logger: logger) }
                return try await body(store, url)
            }
            try await embedded?.stop()
            return result
        } catch {
            try? await embedded?.stop()
            throw error
        }
    }

    /// The URL to connect to, starting the embedded cluster when no URL is configured.
    public func resolve(logger: Logger) async throws -> (DatabaseURL, EmbeddedPostgres?) {
        if let url { return (try DatabaseURL(url), nil) }
        let embedded = EmbeddedPostgres(
            configuration: .init(dataDirectory: dataDirectory, settings: embeddedSettings), logger: logger)
        let connection = try await embedded.start()
        return (try DatabaseURL(connection.url), embedded)
    }

    /// Runs a PostgresClient for the duration of `body`.
    public static func withClient<T: Sendable>(
        url: DatabaseURL, maximumConnections: Int = 20, logger: Logger, _ body: @Sendable (PostgresClient) async throws -> T
    ) async throws -> T {
        let client = PostgresClient(configuration: url.clientConfiguration(maximumConnections: maximumConnections), backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            await startRunning([client], in: &group, returning: nil)
            defer { group.cancelAll() }
            return try await body(client)
        }
    }

    /// Adds each client's `run()` to `group` and returns once every one of those tasks has
    /// started. A lease asked for before `run()` works, but PostgresNIO logs a warning for each
    /// (hundreds in the test suites, and one per CLI command). Each task signals just before it
    /// calls `run()`, which marks the client running before it first suspends; the caller has
    /// to be scheduled again to go on, by which time that has happened.
    public static func startRunning<Result: Sendable>(_ clients: [PostgresClient], in group: inout ThrowingTaskGroup<Result, any Error>,
                                                      returning value: Result) async {
        let (started, starting) = AsyncStream.makeStream(of: Void.self)
        for client in clients {
            group.addTask {
                starting.yield()
                await client.run()
                return value
            }
        }
        var count = 0
        for await _ in started {
            count += 1
            if count == clients.count { break }
        }
    }
}
