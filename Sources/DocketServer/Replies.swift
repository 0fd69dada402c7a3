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
        let transitions = state?.transitions ?? []
        let fields = item.fields.sorted { $0.key < $1.key }
        RESPEncoder.write(as: version, into: &buffer) { w in
            w.mapHeader(count: 15)
            w.key("id"); w.bulk(item.id)
            w.key("workflow"); w.bulk(item.workflow)
            w.key("workflow_version"); w.integer(Int64(item.workflowVersion))
            w.key("title"); w.bulk(item.title)
            w.key("theme"); w.bulk(item.theme)
            w.key("group"); w.bulk(item.group)
            w.key("state"); w.bulk(item.state)
            w.key("version"); w.integer(Int64(item.version))
            w.key("author"); w.bulk(item.author)
            w.key("created_at"); w.timestamp(item.createdAt)
            w.key("state_since"); w.timestamp(item.stateSince)
            w.key("due_at"); w.timestamp(item.dueAt)
            w.key("final"); w.boolean(state?.final ?? false)
            w.key("fields")
            w.mapHeader(count: fields.count)
            for (name, value) in fields {
                w.bulk(name)
                w.bulk(value)
            }
            w.key("transitions")
            w.arrayHeader(count: transitions.count)
            // By index: a `for` over the array would copy each transition to write its name.
            for i in transitions.indices { w.bulk(transitions[i].name) }
        }
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

extension RESPRawWriter {
    /// A timestamp as a bulk string, from its digits without a `String` (`Timestamp.withUTF8`);
    /// null when there is none, as `bulk(nil)` writes it.
    mutating func timestamp(_ date: Date?) {
        guard let date else { return bulk(nil as String?) }
        Timestamp.withUTF8(date) { bulk(utf8: $0) }
    }
}
