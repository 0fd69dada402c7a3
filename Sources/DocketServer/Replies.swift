import DocketCore
import DocketStore
import DocketWire
import Foundation
import NIOCore

/// How domain values look on the wire (PROTOCOL.md "Values").
enum Reply {
    static func ok() -> RESPValue { .simpleString("OK") }

    static func text(_ s: String?) -> RESPValue { s.map { .bulk($0) } ?? .null }

    static func time(_ d: Date?) -> RESPValue { d.map { .bulk(Timestamp.format($0)) } ?? .null }

    static func map(_ pairs: [(String, RESPValue)]) -> RESPValue { .map(pairs.map { (.bulk($0.0), $0.1) }) }

    static func item(_ item: ItemSnapshot, _ definition: WorkflowDefinition?) -> RESPValue {
        let state = definition?.state(item.state)
        return map([
            ("id", .bulk(item.id)),
            ("workflow", .bulk(item.workflow)),
            ("workflow_version", .integer(Int64(item.workflowVersion))),
            ("title", .bulk(item.title)),
            ("theme", text(item.theme)),
            ("group", text(item.group)),
            ("state", .bulk(item.state)),
            ("version", .integer(Int64(item.version))),
            ("author", .bulk(item.author)),
            ("created_at", time(item.createdAt)),
            ("state_since", time(item.stateSince)),
            ("due_at", time(item.dueAt)),
            ("final", .boolean(state?.final ?? false)),
            ("fields", map(item.fields.sorted { $0.key < $1.key }.map { ($0.key, .bulk($0.value)) })),
            ("transitions", .array((state?.transitions ?? []).map { .bulk($0.name) })),
        ])
    }

    /// Writes `item(item, definition)`'s bytes straight into `buffer`, without building the map
    /// first: ITEM.GET's path, where making the map's thirty-odd values (each bulk string its
    /// own buffer) and encoding them was about an eighth of the server's time per read.
    static func writeItem(_ item: ItemSnapshot, _ definition: WorkflowDefinition?, as version: RESPVersion, into buffer: inout ByteBuffer) {
        let state = definition?.state(item.state)
        func key(_ name: StaticString) { RESPEncoder.writeBulk(name, into: &buffer) }
        RESPEncoder.writeMapHeader(count: 15, as: version, into: &buffer)
        key("id"); RESPEncoder.writeBulk(item.id, into: &buffer)
        key("workflow"); RESPEncoder.writeBulk(item.workflow, into: &buffer)
        key("workflow_version"); RESPEncoder.writeInteger(Int64(item.workflowVersion), into: &buffer)
        key("title"); RESPEncoder.writeBulk(item.title, into: &buffer)
        key("theme"); RESPEncoder.writeBulk(item.theme, as: version, into: &buffer)
        key("group"); RESPEncoder.writeBulk(item.group, as: version, into: &buffer)
        key("state"); RESPEncoder.writeBulk(item.state, into: &buffer)
        key("version"); RESPEncoder.writeInteger(Int64(item.version), into: &buffer)
        key("author"); RESPEncoder.writeBulk(item.author, into: &buffer)
        key("created_at"); RESPEncoder.writeBulk(Timestamp.format(item.createdAt), into: &buffer)
        key("state_since"); RESPEncoder.writeBulk(Timestamp.format(item.stateSince), into: &buffer)
        key("due_at"); RESPEncoder.writeBulk(item.dueAt.map(Timestamp.format), as: version, into: &buffer)
        key("final"); RESPEncoder.encode(.boolean(state?.final ?? false), as: version, into: &buffer)
        key("fields")
        RESPEncoder.writeMapHeader(count: item.fields.count, as: version, into: &buffer)
        for (name, value) in item.fields.sorted(by: { $0.key < $1.key }) {
            RESPEncoder.writeBulk(name, into: &buffer)
            RESPEncoder.writeBulk(value, into: &buffer)
        }
        key("transitions")
        let transitions = state?.transitions ?? []
        RESPEncoder.writeArrayHeader(count: transitions.count, into: &buffer)
        for transition in transitions { RESPEncoder.writeBulk(transition.name, into: &buffer) }
    }

    static func event(_ e: EventRecord) -> RESPValue {
        map([
            ("seq", e.seq.map { .integer($0) } ?? .null),
            ("item", .bulk(e.item)),
            ("type", .bulk(e.type)),
            ("transition", text(e.transition)),
            ("from", .bulk(e.from)),
            ("to", .bulk(e.to)),
            ("actor", .bulk(e.actor)),
            ("at", time(e.at)),
            ("comment", text(e.comment)),
            ("version", .integer(Int64(e.version))),
            ("hash", .bulk(e.hash)),
            // Beyond PROTOCOL.md: what the event was about (verdict, field, member, revision, ...).
            ("data", map(e.data.sorted { $0.key < $1.key }.map { ($0.key, .bulk($0.value)) })),
        ])
    }

    static func checks(_ transition: String, _ d: Decision) -> RESPValue {
        map([
            ("transition", .bulk(transition)),
            ("allowed", .boolean(d.failed.isEmpty)),
            ("checks", .array(d.checks.map { c in map([("check", .bulk(c.name)), ("ok", .boolean(c.ok)), ("detail", .bulk(c.detail))]) })),
        ])
    }

    /// The protocol error for a store error: its first word is the class.
    static func error(_ error: any Error) -> RESPValue {
        switch error {
        case let e as StoreError:
            switch e {
            case let .notFound(what): return .error("NOTFOUND \(what) not found")
            case .conflict: return .error("CONFLICT \(e.description)")
            case let .denied(d): return .error("DENIED \(d.refusal)")
            case let .invalid(m): return .error("INVALID \(m)")
            case let .noPermission(m): return .error("NOPERM \(m)")
            case let .unavailable(m): return .error("UNAVAILABLE \(m)")
            }
        case let e as CommandError:
            return .error(e.line)
        default:
            return .error("UNAVAILABLE \(error)")
        }
    }
}

/// An error a command answers with; `code` is the protocol's error class.
struct CommandError: Error, Sendable {
    var code: String
    var message: String
    var line: String { "\(code) \(message)" }

    static func syntax(_ m: String) -> CommandError { CommandError(code: "ERR", message: m) }
    static func arity(_ name: String) -> CommandError { CommandError(code: "ERR", message: "wrong number of arguments for '\(name.lowercased())' command") }
    static func noPerm(_ m: String) -> CommandError { CommandError(code: "NOPERM", message: m) }
    static func invalid(_ m: String) -> CommandError { CommandError(code: "INVALID", message: m) }
}
