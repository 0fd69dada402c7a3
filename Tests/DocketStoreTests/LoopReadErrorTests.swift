@testable import DocketStore
import NIOCore
@testable import PostgresNIO
import Testing

/// The loop read's prepared statement reports errors in PostgresNIO's older `PostgresError`
/// form. They must mean what the same errors mean on the pooled path: a lost connection sends
/// the reads to the pool, and a server error becomes the same `StoreError`.
@Suite("Loop read errors in PostgresNIO's older form")
struct LoopReadErrorTests {
    static func server(_ state: String, _ message: String = "it failed") -> PostgresError {
        .server(PostgresMessage.Error(fields: [.sqlState: state, .message: message]))
    }

    @Test func aLostConnectionIsToldFromAFailedQuery() {
        #expect(LoopReader.lostConnection(PostgresError.connectionClosed))
        #expect(LoopReader.lostConnection(PostgresError.protocol("Unexpected connection close")))
        #expect(LoopReader.lostConnection(Self.server("57P01", "terminating connection due to administrator command")))
        #expect(LoopReader.lostConnection(Self.server("08006")))
        #expect(!LoopReader.lostConnection(Self.server("57014", "canceling statement due to statement timeout")))
        #expect(!LoopReader.lostConnection(Self.server("42P01")))
        // The older form passes a connection's own failure on as it is.
        #expect(LoopReader.lostConnection(IOError(errnoCode: ECONNRESET, reason: "read(descriptor:pointer:size:)")))
        #expect(LoopReader.lostConnection(ChannelError.ioOnClosedChannel))
        #expect(!LoopReader.lostConnection(StoreError.unavailable("late")))
        // The connection's prepared read no longer fits the table: a row it cannot read, a
        // plan that would change its result type. The pool answers; the next connection
        // prepares the statement anew.
        #expect(LoopReader.lostConnection(BinaryCells.RowError(description: "column version of an item row is not a 4-byte integer (8 bytes)")))
        #expect(LoopReader.lostConnection(Self.server("0A000", "cached plan must not change result type")))
    }

    @Test func serverErrorsTranslateAsOnThePooledPath() {
        #expect(Store.translate(Self.server("57014", "canceling statement")) == .unavailable("canceling statement"))
        #expect(Store.translate(Self.server("40001", "could not serialize")) == .unavailable("could not serialize; nothing was written, try again"))
        #expect(Store.translate(Self.server("22P02", "invalid input")) == .invalid("invalid input"))
        #expect(Store.translate(Self.server("42P01", "relation does not exist")) == .invalid("relation does not exist (SQLSTATE 42P01)"))
        if case .unavailable = Store.translate(PostgresError.connectionClosed) {} else {
            Issue.record("a closed connection is not UNAVAILABLE")
        }
    }
}
