import Foundation

/// What a user (or the scheduler) asks of an item.
public enum Command: Sendable, Hashable {
    case fire(transition: String, comment: String? = nil)
    case setField(name: String, value: String)
    case revise(text: String, note: String? = nil)
    case vote(Verdict, comment: String? = nil)
    case endorse(member: String, comment: String? = nil)
    case withdrawEndorsement(member: String)
    case comment(String)
    case assign([String])
    case addMilestone(title: String, due: Date? = nil)
    case completeMilestone(Int)
    /// The scheduler's reminder number `index` (0-based) of the current state.
    case remind(index: Int)
}

/// A new item as the creator describes it.
public struct NewItem: Sendable, Hashable {
    public var title: String
    public var theme: String?
    public var group: String?
    public var fields: [String: String]

    public init(title: String, theme: String? = nil, group: String? = nil, fields: [String: String] = [:]) {
        self.title = title
        self.theme = theme
        self.group = group
        self.fields = fields
    }
}

/// One guard the engine evaluated, passed or failed, in words a person understands.
public struct Check: Sendable, Hashable, CustomStringConvertible {
    /// A short stable name: `transition`, `role`, `not`, `require:summary`, `quorum:approve`, ...
    public var name: String
    public var ok: Bool
    public var detail: String

    public init(_ name: String, _ ok: Bool, _ detail: String) {
        self.name = name
        self.ok = ok
        self.detail = detail
    }

    public var description: String { "\(ok ? "ok" : "FAILED") \(name): \(detail)" }
}

public enum EventType: String, Sendable, Hashable, CaseIterable, Codable {
    case created, transition, field, revision, vote, endorsement, comment, reminder, assignment, milestone, migration
}

/// An event as decided, before the store gives it a version, a sequence number and a hash.
public struct EventDraft: Sendable, Hashable {
    public var type: EventType
    public var transition: String?
    public var from: String
    public var to: String
    public var actor: String
    public var at: Date
    public var comment: String?
    /// Details specific to the type (field name and value, vote, member, ...).
    public var data: [String: String]

    public init(
        type: EventType, transition: String? = nil, from: String, to: String, actor: String, at: Date,
        comment: String? = nil, data: [String: String] = [:]
    ) {
        self.type = type
        self.transition = transition
        self.from = from
        self.to = to
        self.actor = actor
        self.at = at
        self.comment = comment
        self.data = data
    }
}

/// A timer the scheduler fires later.
public struct TimerDraft: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case reminder(index: Int)
        case transition(String)
    }

    public var kind: Kind
    public var fireAt: Date

    public init(kind: Kind, fireAt: Date) {
        self.kind = kind
        self.fireAt = fireAt
    }
}

/// What applying an accepted command changes besides appending its event.
public enum Change: Sendable, Hashable {
    /// A new item in `state`.
    case created(state: String, dueAt: Date?, timers: [TimerDraft], fields: [String: String])
    /// The item moves to `state`, starting a new round there.
    case transition(to: String, dueAt: Date?, timers: [TimerDraft])
    case field(name: String, value: String)
    case revision(number: Int, text: String, note: String?, sha256: String)
    case vote(Vote)
    case endorsement(Endorsement)
    case endorsementWithdrawn(member: String)
    case assignment([String])
    case milestoneAdded(Milestone)
    case milestoneDone(number: Int, at: Date)
    /// Only the event is appended (comments, reminders).
    case none
}

/// The engine's answer: every check it made and, when all passed, what to apply.
public struct Decision: Sendable, Hashable {
    public var checks: [Check]
    public var event: EventDraft?
    public var change: Change?

    public var allowed: Bool { event != nil }
    public var failed: [Check] { checks.filter { !$0.ok } }

    /// `summary is filled: no; quorum approve: 1 of at least 2`: the failed checks in one line.
    public var refusal: String { failed.map { "\($0.name): \($0.detail)" }.joined(separator: "; ") }

    static func refused(_ checks: [Check]) -> Decision { Decision(checks: checks, event: nil, change: nil) }
}
