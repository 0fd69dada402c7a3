import DocketCore
import Foundation
import PostgresNIO

/// JSON shapes of the snapshot columns of `items` (votes, endorsements, milestones).
struct VoteJSON: Codable {
    var reviewer: String
    var verdict: String
    var revision: Int
    var at: Int64
    var comment: String?

    init(_ v: Vote) {
        reviewer = v.reviewer
        verdict = v.verdict.rawValue
        revision = v.revision
        at = v.at.epochMicroseconds
        comment = v.comment
    }

    var vote: Vote? {
        Verdict(rawValue: verdict).map { Vote(reviewer: reviewer, verdict: $0, revision: revision, at: Date(epochMicroseconds: at), comment: comment) }
    }
}

struct EndorsementJSON: Codable {
    var member: String
    var by: String
    var at: Int64
    var comment: String?

    init(_ e: Endorsement) {
        member = e.member
        by = e.by
        at = e.at.epochMicroseconds
        comment = e.comment
    }

    var endorsement: Endorsement { Endorsement(member: member, by: by, at: Date(epochMicroseconds: at), comment: comment) }
}

struct MilestoneJSON: Codable {
    var number: Int
    var title: String
    var due: Int64?
    var done: Int64?

    init(_ m: Milestone) {
        number = m.number
        title = m.title
        due = m.due?.epochMicroseconds
        done = m.doneAt?.epochMicroseconds
    }

    var milestone: Milestone {
        Milestone(number: number, title: title, due: due.map(Date.init(epochMicroseconds:)), doneAt: done.map(Date.init(epochMicroseconds:)))
    }
}

enum JSON {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    static func encode<T: Encodable>(_ value: T) -> String {
        (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? "null"
    }

    static func encodeArray<T: Encodable>(_ values: [T]) -> String {
        values.isEmpty ? "[]" : encode(values)
    }

    /// A flat object of strings (fields, event data), keys sorted, written by hand: every
    /// command writes two of them, and JSONEncoder was a visible part of a transition's cost.
    static func encode(_ object: [String: String]) -> String {
        if object.isEmpty { return "{}" }
        var out = "{"
        for (i, key) in object.keys.sorted().enumerated() {
            if i > 0 { out += "," }
            JSONText.appendQuoted(key, to: &out)
            out += ":"
            JSONText.appendQuoted(object[key]!, to: &out)
        }
        return out + "}"
    }

    /// PostgreSQL's text form of a flat jsonb object of strings (`{"a": "b", ...}`), read by
    /// hand; nil for anything else (a number, a nested value), which callers then give to
    /// JSONDecoder.
    static func decodeObject(_ text: String) -> [String: String]? {
        var text = text
        return text.withUTF8 { decodeObject(utf8: $0) }
    }

    /// `decodeObject` on the text's bytes (a `jsonb` cell's, say, without making a `String`
    /// of them first). A string with no escape becomes a `String` straight from its bytes;
    /// only one with escapes is built byte by byte.
    static func decodeObject(utf8 text: UnsafeBufferPointer<UInt8>) -> [String: String]? {
        var bytes = text[...]
        func skipSpace() { while let b = bytes.first, b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 { bytes.removeFirst() } }
        func expect(_ b: UInt8) -> Bool {
            skipSpace()
            guard bytes.first == b else { return false }
            bytes.removeFirst()
            return true
        }
        func hex4() -> UInt32? {
            guard bytes.count >= 4 else { return nil }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let b = bytes.removeFirst()
                guard let d = (b >= 0x30 && b <= 0x39 ? b - 0x30 : b >= 0x61 && b <= 0x66 ? b - 0x57 : b >= 0x41 && b <= 0x46 ? b - 0x37 : nil) else { return nil }
                v = v << 4 | UInt32(d)
            }
            return v
        }
        func string() -> String? {
            guard expect(0x22) else { return nil }
            // The usual case: the closing quote comes before any escape or control byte.
            if let end = bytes.firstIndex(where: { $0 == 0x22 || $0 == 0x5C || $0 < 0x20 }), bytes[end] == 0x22 {
                let value = String(decoding: UnsafeBufferPointer(rebasing: bytes[..<end]), as: UTF8.self)
                bytes = bytes[(end + 1)...]
                return value
            }
            var utf8: [UInt8] = []
            utf8.reserveCapacity(min(bytes.count, 256))
            while let b = bytes.popFirst() {
                switch b {
                case 0x22: return String(decoding: utf8, as: UTF8.self)
                case 0x5C:
                    guard let e = bytes.popFirst() else { return nil }
                    switch e {
                    case 0x22, 0x5C, 0x2F: utf8.append(e)
                    case 0x62: utf8.append(0x08)
                    case 0x66: utf8.append(0x0C)
                    case 0x6E: utf8.append(0x0A)
                    case 0x72: utf8.append(0x0D)
                    case 0x74: utf8.append(0x09)
                    case 0x75:
                        guard var v = hex4() else { return nil }
                        if (0xD800..<0xDC00).contains(v) {
                            guard bytes.popFirst() == 0x5C, bytes.popFirst() == 0x75, let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                            v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let scalar = Unicode.Scalar(v) else { return nil }
                        utf8.append(contentsOf: String(Character(scalar)).utf8)
                    default: return nil
                    }
                case ..<0x20: return nil
                default: utf8.append(b)
                }
            }
            return nil
        }
        guard expect(0x7B) else { return nil }
        var out: [String: String] = [:]
        if expect(0x7D) { skipSpace(); return bytes.isEmpty ? out : nil }
        // Grown once rather than at each of the first few keys.
        out.reserveCapacity(8)
        repeat {
            guard let key = string(), expect(0x3A), let value = string() else { return nil }
            out[key] = value
        } while expect(0x2C)
        guard expect(0x7D) else { return nil }
        skipSpace()
        return bytes.isEmpty ? out : nil
    }

    /// One decoder for every row (decoding does not change it).
    static let decoder = JSONDecoder()

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) -> T? {
        try? decoder.decode(type, from: Data(text.utf8))
    }

    /// An item's `fields` column as text: by hand when it is a flat object of strings (always,
    /// as the store writes it), JSONDecoder otherwise.
    static func decodeFields(_ text: String) -> [String: String] {
        text == "{}" ? [:] : decodeObject(text) ?? decode([String: String].self, text) ?? [:]
    }

    /// Most snapshot columns are empty (`[]`, `{}`): no decoder for those.
    static func decodeArray<T: Decodable>(_ type: [T].Type, _ text: String) -> [T] {
        text == "[]" ? [] : decode(type, text) ?? []
    }
}

/// An item row, with what the engine needs and the hash of its latest event.
struct ItemRow: Sendable {
    var snapshot: ItemSnapshot
    var lastHash: [UInt8]
    var final: Bool

    /// Columns in the order `decode` reads them.
    static let columns = """
        id, workflow, workflow_version, title, theme, group_slug, state, version, author,
        docket_micros(created_at), docket_micros(state_since), docket_micros(due_at), round,
        fields::text, revisions, votes::text, assignees, endorsements::text, milestones::text, last_hash, final
        """

    static func columns(prefix p: String) -> String {
        """
        \(p).id, \(p).workflow, \(p).workflow_version, \(p).title, \(p).theme, \(p).group_slug, \(p).state, \(p).version, \(p).author,
        docket_micros(\(p).created_at), docket_micros(\(p).state_since), docket_micros(\(p).due_at), \(p).round,
        \(p).fields::text, \(p).revisions, \(p).votes::text, \(p).assignees, \(p).endorsements::text, \(p).milestones::text, \(p).last_hash, \(p).final
        """
    }

    static let columnCount = 21

    /// The columns of `columns` that "waiting on" and visibility look at; the rest (title,
    /// fields, endorsements, milestones, hash) come back empty, for reports of many items.
    static let waitingColumns = """
        id, workflow, workflow_version, '', theme, group_slug, state, version, author,
        0::int8, docket_micros(state_since), docket_micros(due_at), round,
        '{}', revisions, votes::text, assignees, '[]', '[]', ''::bytea, final
        """

    /// The columns ITEM.GET's reply and its visibility check read, for its loop read
    /// (`LoopReader`); `replySnapshot` reads them. Votes, endorsements, milestones and the
    /// hash are not asked for: PostgreSQL writes no jsonb for them and the server decodes none
    /// (fields are read by hand, as everywhere).
    ///
    /// The columns as they are stored, read from their bytes in binary (`BinaryCells`). The loop
    /// read is a prepared statement run through PostgresNIO's future-based interface, which
    /// records the statement's columns as text-format while it has every value sent in binary,
    /// so its typed decoding cannot be used. Cast to text, as they were, PostgreSQL built a
    /// projection of casts and numeric arithmetic and printed every number, and the server
    /// parsed them back.
    static let replyColumns = """
        id, workflow, workflow_version, title, theme, group_slug, state, version, author,
        created_at, state_since, due_at, round, fields, revisions, assignees
        """

    /// A row of `replyColumns`: the snapshot without votes, endorsements and milestones (the
    /// loop read needs neither the hash nor `final`, so no `ItemRow` is built around it).
    static func replySnapshot(_ row: PostgresRow) throws -> ItemSnapshot {
        var cells = BinaryCells(row)
        let id = try cells.text()
        let workflow = try cells.text()
        let workflowVersion = try cells.int4()
        let title = try cells.text()
        let theme = try cells.optional(BinaryCells.text)
        let group = try cells.optional(BinaryCells.text)
        let state = try cells.text()
        let version = try cells.int4()
        let author = try cells.text()
        let createdAt = try cells.timestamp()
        let stateSince = try cells.timestamp()
        let dueAt = try cells.optional(BinaryCells.timestamp)
        let round = try cells.int4()
        let fields = try cells.fields()
        let revisions = try cells.int4()
        let assignees = try cells.textArray()
        return ItemSnapshot(
            id: id, workflow: workflow, workflowVersion: workflowVersion, title: title, theme: theme, group: group,
            state: state, version: version, author: author, createdAt: createdAt, stateSince: stateSince, dueAt: dueAt,
            fields: fields, revisions: revisions, round: round, assignees: assignees
        )
    }

    init(snapshot: ItemSnapshot, lastHash: [UInt8], final: Bool) {
        self.snapshot = snapshot
        self.lastHash = lastHash
        self.final = final
    }

    init(_ row: PostgresRow, offset: Int = 0) throws {
        let r = row.makeRandomAccess()
        func col<T: PostgresDecodable>(_ i: Int, _ t: T.Type = T.self) throws -> T { try r[offset + i].decode(T.self, context: .default) }
        let fieldsText = try col(13, String.self)
        let fields = JSON.decodeFields(fieldsText)
        let votes = JSON.decodeArray([VoteJSON].self, try col(15, String.self)).compactMap(\.vote)
        let endorsements = JSON.decodeArray([EndorsementJSON].self, try col(17, String.self)).map(\.endorsement)
        let milestones = JSON.decodeArray([MilestoneJSON].self, try col(18, String.self)).map(\.milestone)
        snapshot = ItemSnapshot(
            id: try col(0), workflow: try col(1), workflowVersion: try col(2), title: try col(3),
            theme: try col(4, String?.self), group: try col(5, String?.self), state: try col(6), version: try col(7),
            author: try col(8), createdAt: Date(epochMicroseconds: try col(9)), stateSince: Date(epochMicroseconds: try col(10)),
            dueAt: try col(11, Int64?.self).map(Date.init(epochMicroseconds:)), fields: fields, revisions: try col(14),
            round: try col(12), votes: votes, assignees: try col(16, [String].self), endorsements: endorsements, milestones: milestones
        )
        lastHash = Array(try col(19, ByteBuffer.self).readableBytesView)
        final = try col(20)
    }
}

/// An event as stored: the engine's draft plus its place in the item's chain and the global log.
public struct EventRecord: Sendable, Hashable {
    /// Position in the global commit-ordered log; nil until the sequencer has numbered it
    /// (it does so within milliseconds of the commit).
    public var seq: Int64?
    public var item: String
    public var version: Int
    public var type: String
    public var transition: String?
    public var from: String
    public var to: String
    public var actor: String
    public var at: Date
    public var comment: String?
    public var data: [String: String]
    public var hash: String

    static let columns = """
        l.seq, e.item_id, e.version, e.type, e.transition, e.from_state, e.to_state, e.actor,
        docket_micros(e.at), e.comment, e.data::text, e.hash, e.prev_hash
        """

    init(seq: Int64?, chained: ChainedEvent, hash: [UInt8]) {
        self.seq = seq
        item = chained.item
        version = chained.version
        type = chained.type
        transition = chained.transition
        from = chained.from
        to = chained.to
        actor = chained.actor
        at = Date(epochMicroseconds: chained.atMicros)
        comment = chained.comment
        data = chained.data
        self.hash = SHA256Hex.hex(hash)
    }

    /// Decodes a row selected with `columns`; also returns the chain view for verification.
    static func decode(_ row: PostgresRow, offset: Int = 0) throws -> (EventRecord, ChainedEvent, prev: [UInt8], hash: [UInt8]) {
        let r = row.makeRandomAccess()
        func col<T: PostgresDecodable>(_ i: Int, _ t: T.Type = T.self) throws -> T { try r[offset + i].decode(T.self, context: .default) }
        let chained = ChainedEvent(
            item: try col(1), version: try col(2), type: try col(3), transition: try col(4, String?.self),
            from: try col(5), to: try col(6), actor: try col(7), atMicros: try col(8),
            comment: try col(9, String?.self), data: JSON.decode([String: String].self, try col(10, String.self)) ?? [:])
        let hash = Array(try col(11, ByteBuffer.self).readableBytesView)
        let prev = Array(try col(12, ByteBuffer.self).readableBytesView)
        return (EventRecord(seq: try col(0, Int64?.self), chained: chained, hash: hash), chained, prev, hash)
    }
}

/// A row's values in PostgreSQL's binary format, read in column order. Each reader takes the
/// next column and checks its length and shape; a value that is not what the column holds
/// fails with `RowError`, naming the column (the loop read then leaves its connection and
/// the pool answers).
struct BinaryCells {
    private var cells: PostgresRow.Iterator

    init(_ row: PostgresRow) { cells = row.makeIterator() }

    /// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01 UTC).
    static let postgresEpochMicroseconds: Int64 = 946_684_800_000_000

    /// What is wrong with a value ("is not a 4-byte integer (8 bytes)").
    struct Unreadable: Error {
        var problem: String
        init(_ problem: String) { self.problem = problem }
    }

    /// A row that could not be read.
    struct RowError: Error, CustomStringConvertible {
        var description: String
    }

    private static func unreadable(_ column: String, _ problem: String) -> RowError {
        RowError(description: "column \(column) of an item row \(problem)")
    }

    private mutating func next() throws(RowError) -> (name: String, bytes: ByteBuffer?) {
        guard let cell = cells.next() else { throw RowError(description: "an item row has too few columns") }
        return (cell.columnName, cell.bytes)
    }

    /// The next column, which is never NULL.
    private mutating func value<T>(_ read: (ByteBuffer) throws(Unreadable) -> T) throws(RowError) -> T {
        let (name, bytes) = try next()
        guard let bytes else { throw Self.unreadable(name, "is NULL") }
        do { return try read(bytes) } catch { throw Self.unreadable(name, error.problem) }
    }

    /// The next column, which may be NULL.
    mutating func optional<T>(_ read: (ByteBuffer) throws(Unreadable) -> T) throws(RowError) -> T? {
        let (name, bytes) = try next()
        guard let bytes else { return nil }
        do { return try read(bytes) } catch { throw Self.unreadable(name, error.problem) }
    }

    mutating func text() throws(RowError) -> String { try value(Self.text) }
    mutating func int4() throws(RowError) -> Int { try value(Self.int4) }
    mutating func timestamp() throws(RowError) -> Date { try value(Self.timestamp) }
    mutating func jsonb() throws(RowError) -> String { try value(Self.jsonb) }
    mutating func fields() throws(RowError) -> [String: String] { try value(Self.fields) }
    mutating func textArray() throws(RowError) -> [String] { try value(Self.textArray) }

    static func text(_ bytes: ByteBuffer) throws(Unreadable) -> String {
        String(buffer: bytes)
    }

    static func int4(_ bytes: ByteBuffer) throws(Unreadable) -> Int {
        guard bytes.readableBytes == 4, let n = bytes.getInteger(at: bytes.readerIndex, as: Int32.self) else {
            throw Unreadable("is not a 4-byte integer (\(bytes.readableBytes) bytes)")
        }
        return Int(n)
    }

    /// A `timestamptz`: microseconds from 2000-01-01 UTC. Items hold no infinite times.
    static func timestamp(_ bytes: ByteBuffer) throws(Unreadable) -> Date {
        guard bytes.readableBytes == 8, let micros = bytes.getInteger(at: bytes.readerIndex, as: Int64.self) else {
            throw Unreadable("is not a timestamp (\(bytes.readableBytes) bytes)")
        }
        guard micros != .max, micros != .min else { throw Unreadable("is an infinite timestamp") }
        let (unix, overflow) = micros.addingReportingOverflow(postgresEpochMicroseconds)
        guard !overflow else { throw Unreadable("is a timestamp out of range") }
        return Date(epochMicroseconds: unix)
    }

    /// A `jsonb`'s text: a version byte (1), then the text `jsonb::text` gives.
    static func jsonb(_ bytes: ByteBuffer) throws(Unreadable) -> String {
        String(buffer: try jsonbText(bytes))
    }

    /// The bytes of a `jsonb`'s text, after its version byte.
    private static func jsonbText(_ bytes: ByteBuffer) throws(Unreadable) -> ByteBuffer {
        guard let version = bytes.getInteger(at: bytes.readerIndex, as: UInt8.self), version == 1 else {
            throw Unreadable("is not jsonb of version 1")
        }
        return bytes.getSlice(at: bytes.readerIndex + 1, length: bytes.readableBytes - 1)!
    }

    /// An item's `fields`, a `jsonb` flat object of strings: read by hand from the cell's bytes,
    /// as `JSON.decodeFields` reads the text (which takes anything else).
    static func fields(_ bytes: ByteBuffer) throws(Unreadable) -> [String: String] {
        let text = try jsonbText(bytes)
        let object = text.withUnsafeReadableBytes { JSON.decodeObject(utf8: $0.bindMemory(to: UInt8.self)) }
        return object ?? JSON.decodeFields(String(buffer: text))
    }

    /// A one-dimensional `text[]` with no NULLs: its dimension count, a has-NULLs flag, the
    /// element type, each dimension's length and lower bound, then each element's length and
    /// bytes. An empty array has no dimensions.
    static func textArray(_ bytes: ByteBuffer) throws(Unreadable) -> [String] {
        var b = bytes
        guard let dimensions = b.readInteger(as: Int32.self), b.readInteger(as: Int32.self) != nil,
              let element = b.readInteger(as: UInt32.self) else {
            throw Unreadable("is not an array")
        }
        guard element == PostgresDataType.text.rawValue || element == PostgresDataType.varchar.rawValue else {
            throw Unreadable("is not an array of text (element type \(element))")
        }
        if dimensions == 0 { return [] }
        guard dimensions == 1, let count = b.readInteger(as: Int32.self), count >= 0, b.readInteger(as: Int32.self) != nil else {
            throw Unreadable("is not a one-dimensional array")
        }
        var values: [String] = []
        // Each element takes at least its 4-byte length: a count beyond that is caught below.
        values.reserveCapacity(min(Int(count), b.readableBytes / 4))
        for _ in 0..<count {
            guard let length = b.readInteger(as: Int32.self), length >= 0, let value = b.readString(length: Int(length)) else {
                throw Unreadable("has a NULL or cut element")
            }
            values.append(value)
        }
        guard b.readableBytes == 0 else { throw Unreadable("has bytes after its last element") }
        return values
    }
}
