import Crypto
import Foundation

/// One event's content as it is hashed into its item's audit chain.
///
/// `hash = SHA-256(prev_hash || canonical bytes)`, chained per item, so concurrent items never
/// serialise on one chain, and any edit made behind the service's back breaks the chain from
/// that event on.
public struct ChainedEvent: Sendable, Hashable {
    public var item: String
    /// The item's version after this event: 1 for `created`, then 2, 3, ...
    public var version: Int
    public var type: String
    public var transition: String?
    public var from: String
    public var to: String
    public var actor: String
    /// Microseconds since 1970, exactly as stored.
    public var atMicros: Int64
    public var comment: String?
    public var data: [String: String]

    public init(item: String, version: Int, type: String, transition: String?, from: String, to: String,
                actor: String, atMicros: Int64, comment: String?, data: [String: String]) {
        self.item = item
        self.version = version
        self.type = type
        self.transition = transition
        self.from = from
        self.to = to
        self.actor = actor
        self.atMicros = atMicros
        self.comment = comment
        self.data = data
    }

    public init(item: String, version: Int, draft: EventDraft) {
        self.init(item: item, version: version, type: draft.type.rawValue, transition: draft.transition,
                  from: draft.from, to: draft.to, actor: draft.actor, atMicros: draft.at.epochMicroseconds,
                  comment: draft.comment, data: draft.data)
    }

    /// Length-prefixed fields in a fixed order: unambiguous whatever bytes the values hold.
    public var canonicalBytes: [UInt8] {
        var out: [UInt8] = Array("docket-event-v1".utf8)
        func put(_ text: String?) {
            guard let text else {
                out.append(UInt8(ascii: "~"))
                return
            }
            out.append(contentsOf: Array("\(text.utf8.count):".utf8))
            out.append(contentsOf: text.utf8)
        }
        put(item)
        put(String(version))
        put(type)
        put(transition)
        put(from)
        put(to)
        put(actor)
        put(String(atMicros))
        put(comment)
        put(String(data.count))
        for key in data.keys.sorted() {
            put(key)
            put(data[key])
        }
        return out
    }

    /// This event's hash given the previous one's (32 zero bytes for an item's first event).
    public func hash(previous: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: previous)
        hasher.update(data: canonicalBytes)
        return Array(hasher.finalize())
    }
}

public enum AuditChain {
    /// The `prev_hash` of an item's first event.
    public static let genesis = [UInt8](repeating: 0, count: 32)

    /// Where a stored chain first disagrees with its events, if anywhere.
    public struct Break: Sendable, Hashable {
        public var item: String
        public var version: Int
        public var reason: String

        public init(item: String, version: Int, reason: String) {
            self.item = item
            self.version = version
            self.reason = reason
        }
    }

    /// Verifies one item's events, given in version order with their stored hashes.
    public static func verify(_ events: [(event: ChainedEvent, prevHash: [UInt8], hash: [UInt8])]) -> Break? {
        var previous = genesis
        var expectedVersion = 1
        for (event, prevHash, hash) in events {
            if event.version != expectedVersion {
                return Break(item: event.item, version: event.version, reason: "version \(event.version) where \(expectedVersion) was expected")
            }
            if prevHash != previous {
                return Break(item: event.item, version: event.version, reason: "prev_hash does not match the previous event's hash")
            }
            if event.hash(previous: previous) != hash {
                return Break(item: event.item, version: event.version, reason: "hash does not match the event's content")
            }
            previous = hash
            expectedVersion += 1
        }
        return nil
    }
}
