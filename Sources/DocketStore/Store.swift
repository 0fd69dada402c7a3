import DocketCore
import Foundation
import Logging
import NIOConcurrencyHelpers
import PostgresNIO

/// Every change to Docket's data goes through the store: it loads an item's snapshot under
/// its row lock, asks the engine to decide, and writes the item, its event and the hash chain
/// in one transaction.
public final class Store: Sendable {
    public let client: PostgresClient
    let logger: Logger
    /// Parsed definitions by `name@version`; a stored version never changes.
    let definitions = NIOLockedValueBox<[String: WorkflowDefinition]>([:])

    /// How long one store operation may wait for the database before it fails as unavailable.
    public let timeout: Duration

    public init(client: PostgresClient, logger: Logger, timeout: Duration = .seconds(10)) {
        self.client = client
        self.logger = logger
        self.timeout = timeout
    }

    /// Runs `body` in a transaction on one connection, keeping the body's own errors as they are.
    func transaction<T: Sendable>(_ body: @Sendable @escaping (PostgresConnection) async throws -> T) async throws -> T {
        let (client, logger) = (self.client, self.logger)
        return try await mapErrors {
            try await client.withConnection { connection in
                try await connection.query("BEGIN", logger: logger)
                do {
                    let result = try await body(connection)
                    try await connection.query("COMMIT", logger: logger)
                    return result
                } catch {
                    _ = try? await connection.query("ROLLBACK", logger: logger)
                    throw error
                }
            }
        }
    }

    /// Runs `body` on a pooled connection.
    func read<T: Sendable>(_ body: @Sendable @escaping (PostgresConnection) async throws -> T) async throws -> T {
        let client = self.client
        return try await mapErrors { try await client.withConnection(body) }
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
            let message = error.serverInfo?[.message] ?? "database error"
            switch state {
            case "23505": return .invalid("already exists: \(error.serverInfo?[.detail] ?? message)")
            case "23503": return .notFound(error.serverInfo?[.detail] ?? message)
            case "23514", "22P02", "22001", "22021", "54000": return .invalid(message)
            case "42501": return .noPermission(message)
            case let s where s.hasPrefix("08") || s.hasPrefix("57P") || s == "53300":
                return .unavailable(message)
            default: return .invalid("\(message) (SQLSTATE \(state))")
            }
        }
        return .unavailable(String(describing: error.code))
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
    func withDeadline<T: Sendable>(_ body: @Sendable @escaping () async throws -> T) async throws -> T {
        let timeout = self.timeout
        do {
            return try await withThrowingTaskGroup(of: T.self) { group in
                group.addTask { try await body() }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    throw DeadlineExceeded()
                }
                defer { group.cancelAll() }
                return try await group.next()!
            }
        } catch is DeadlineExceeded {
            throw StoreError.unavailable("no answer from PostgreSQL within \(timeout)")
        }
    }
}
