import DocketCore
import NIOCore
import PostgresNIO

// The two statements every command sends, as named prepared statements: PostgreSQL parses and
// plans each once per pooled connection instead of once per command (the big one, a chain of
// data-modifying CTEs, costs more to plan than to run). Parameter types are declared, so a
// NULL in the first execution cannot fix a wrong type for the later ones.

/// The snapshot read: one item row, everything the engine decides on.
struct LoadItemStatement: PostgresPreparedStatement {
    static let name = "docket_load_item"
    static let sql = "SELECT \(ItemRow.columns) FROM items WHERE id = $1"
    static let bindingDataTypes: [PostgresDataType] = [.text]
    typealias Row = ItemRow

    var id: String

    func makeBindings() -> PostgresBindings {
        var b = PostgresBindings()
        b.append(id)
        return b
    }

    func decodeRow(_ row: PostgresRow) throws -> ItemRow { try ItemRow(row) }
}

/// The write: the item row, its event, a revision's text, the timers and the idempotency key
/// in one statement. With `expectedVersion` the row is written only if it still has that
/// version, and nothing else is written otherwise; the reply is the event's id, or no row.
struct WriteItemStatement: PostgresPreparedStatement {
    static let name = "docket_write_item"
    static let sql = """
        WITH upd AS (
            UPDATE items SET state = $2, final = $3, version = $4, state_since = docket_ts($5), due_at = docket_ts($6),
                round = $7, fields = $8::jsonb, revisions = $9, votes = $10::jsonb, assignees = $11,
                endorsements = $12::jsonb, milestones = $13::jsonb, last_hash = $14
            WHERE id = $1 AND ($15::int8 IS NULL OR version = $15) RETURNING id),
        ev AS (
            INSERT INTO events (item_id, version, type, transition, from_state, to_state, actor, at, comment, data, prev_hash, hash)
            SELECT id, $16, $17, $18, $19, $20, $21, docket_ts($22), $23, $24::jsonb, $25, $14
            FROM upd RETURNING id),
        rev AS (
            INSERT INTO revisions (item_id, number, body, note, sha256, author, created_at)
            SELECT $1, $9, $26, $27, $28, $21, docket_ts($22)
            WHERE $26::text IS NOT NULL AND EXISTS (SELECT 1 FROM upd)),
        tdel AS (DELETE FROM timers WHERE item_id = $1 AND $29 AND EXISTS (SELECT 1 FROM upd)),
        tins AS (
            INSERT INTO timers (item_id, round, kind, name, fire_at)
            SELECT $1, $7, k, n, docket_ts(f)
            FROM unnest($30::text[], $31::text[], $32::int8[]) AS t(k, n, f)
            WHERE EXISTS (SELECT 1 FROM upd)),
        k AS (
            INSERT INTO idempotency_keys (handle, key, item_id, command, event_id)
            SELECT $21, $33, $1, $34, ev.id FROM ev WHERE $33::text IS NOT NULL)
        SELECT id FROM ev
        """
    static let bindingDataTypes: [PostgresDataType] = [
        .text, .text, .bool, .int8, .int8, .int8, .int8, .text, .int8, .text,            // $1 ... $10
        .textArray, .text, .text, .bytea, .int8, .int8, .text, .text, .text, .text,      // $11 ... $20
        .text, .int8, .text, .text, .bytea, .text, .text, .text, .bool, .textArray,      // $21 ... $30
        .textArray, .int8Array, .text, .text,                                            // $31 ... $34
    ]
    typealias Row = Int64

    var next: ItemSnapshot
    var final: Bool
    var hash: [UInt8]
    var expectedVersion: Int?
    var chained: ChainedEvent
    var prev: [UInt8]
    var revision: (text: String, note: String?, sha256: String)?
    var replaceTimers: Bool
    var timers: (kinds: [String], names: [String], times: [Int64])
    var key: String?
    var command: String

    func makeBindings() -> PostgresBindings {
        var b = PostgresBindings(capacity: 34)
        b.append(next.id)                                                        // $1
        b.append(next.state)
        b.append(final)
        b.append(next.version)
        b.append(next.stateSince.epochMicroseconds)                              // $5
        b.append(next.dueAt?.epochMicroseconds)
        b.append(next.round)
        b.append(JSON.encode(next.fields))
        b.append(next.revisions)
        b.append(JSON.encodeArray(next.votes.map(VoteJSON.init)))                // $10
        b.append(next.assignees)
        b.append(JSON.encodeArray(next.endorsements.map(EndorsementJSON.init)))
        b.append(JSON.encodeArray(next.milestones.map(MilestoneJSON.init)))
        b.append(ByteBuffer(bytes: hash))
        b.append(expectedVersion)                                                // $15
        b.append(chained.version)
        b.append(chained.type)
        b.append(chained.transition)
        b.append(chained.from)
        b.append(chained.to)                                                     // $20
        b.append(chained.actor)
        b.append(chained.atMicros)
        b.append(chained.comment)
        b.append(JSON.encode(chained.data))
        b.append(ByteBuffer(bytes: prev))                                        // $25
        b.append(revision?.text)
        b.append(revision?.note)
        b.append(revision?.sha256)
        b.append(replaceTimers)
        b.append(timers.kinds)                                                   // $30
        b.append(timers.names)
        b.append(timers.times)
        b.append(key)
        b.append(command)                                                        // $34
        return b
    }

    func decodeRow(_ row: PostgresRow) throws -> Int64 { try row.decode(Int64.self) }
}

/// One round of the event sequencer (`docket_sequence_events`, sql/0006): how many events it
/// numbered and the last number handed out (nil when another instance holds the cursor).
struct SequenceEventsStatement: PostgresPreparedStatement {
    static let name = "docket_sequence_events"
    static let sql = "SELECT numbered, through_seq FROM docket_sequence_events($1)"
    static let bindingDataTypes: [PostgresDataType] = [.int4]
    typealias Row = (Int64, Int64?)

    var limit: Int32

    func makeBindings() -> PostgresBindings {
        var b = PostgresBindings()
        b.append(limit)
        return b
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}
