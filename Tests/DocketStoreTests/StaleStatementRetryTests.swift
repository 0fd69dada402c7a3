import DocketTestSupport
import NIOConcurrencyHelpers
@testable import DocketStore
import PostgresNIO
import Testing

/// A statement prepared before a column's type changed is refused on its connection for as long
/// as that connection lives (`Store.withConnection`).
@Suite("A statement prepared before the tables changed", .timeLimit(.minutes(5)))
struct StaleStatementRetryTests {
    /// A protocol-level prepared statement, kept by the connection that prepared it.
    struct ReadShape: PostgresPreparedStatement {
        static let name = "docket_test_read_shape"
        static let sql = "SELECT v FROM shape"
        static let bindingDataTypes: [PostgresDataType] = []
        typealias Row = Int
        func makeBindings() -> PostgresBindings { PostgresBindings() }
        func decodeRow(_ row: PostgresRow) throws -> Int { try row.decode(Int.self) }
    }

    @Test("a transaction refused after it wrote is rolled back and runs again on a new connection: written once")
    func refusedAfterAWrite() async throws {
        try await TestDatabase.withDatabase { url in
            // One connection, so the one that prepared the statement is the one the transaction gets.
            try await DatabaseLocation.withClient(url: url, maximumConnections: 1, logger: TestDatabase.logger) { client in
                let store = Store(client: client, logger: TestDatabase.logger)
                let logger = TestDatabase.logger
                try await store.read { c in
                    try await c.query("CREATE TABLE shape (v int)", logger: logger)
                    try await c.query("INSERT INTO shape VALUES (7)", logger: logger)
                    try await c.query("CREATE TABLE probe (n int)", logger: logger)
                    for try await v in try await c.execute(ReadShape(), logger: logger) { #expect(v == 7) }
                    // On the same connection: its prepared statement is refused all the same.
                    try await c.query("ALTER TABLE shape ALTER COLUMN v TYPE bigint", logger: logger)
                }

                let runs = NIOLockedValueBox(0)
                let read: [Int] = try await store.transaction { c in
                    runs.withLockedValue { $0 += 1 }
                    try await c.query("INSERT INTO probe VALUES (1)", logger: logger)
                    var out: [Int] = []
                    for try await v in try await c.execute(ReadShape(), logger: logger) { out.append(v) }
                    return out
                }
                #expect(read == [7])
                #expect(runs.withLockedValue { $0 } == 2, "refused once on the old connection, then ran on a new one")
                let probes: Int = try await store.read { c in
                    for try await n in try await c.query("SELECT count(*)::int FROM probe", logger: logger).decode(Int.self) { return n }
                    return -1
                }
                #expect(probes == 1, "the refused attempt's insert was rolled back")
            }
        }
    }
}
