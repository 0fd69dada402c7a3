import Foundation

/// Everything the engine needs to know about one item to decide a command on it.
/// The store loads it in one round trip.
public struct ItemSnapshot: Sendable, Hashable {
    public var id: String
    public var workflow: String
    public var workflowVersion: Int
    public var title: String
    public var theme: String?
    public var group: String?
    public var state: String
    /// Number of events on the item; every event bumps it by one.
    public var version: Int
    public var author: String
    public var createdAt: Date
    public var stateSince: Date
    public var dueAt: Date?
    /// Values of the non-document fields.
    public var fields: [String: String]
    /// Number of revisions of the document; 0 before the first.
    public var revisions: Int
    /// Counts up each time the item enters a state; votes belong to one round.
    public var round: Int
    /// Votes of the current round, latest per reviewer.
    public var votes: [Vote]
    /// Reviewers assigned to the item.
    public var assignees: [String]
    /// Current (not withdrawn) endorsements.
    public var endorsements: [Endorsement]
    public var milestones: [Milestone]

    public init(
        id: String, workflow: String, workflowVersion: Int, title: String, theme: String? = nil,
        group: String? = nil, state: String, version: Int, author: String, createdAt: Date,
        stateSince: Date, dueAt: Date? = nil, fields: [String: String] = [:], revisions: Int = 0,
        round: Int = 1, votes: [Vote] = [], assignees: [String] = [], endorsements: [Endorsement] = [],
        milestones: [Milestone] = []
    ) {
        self.id = id
        self.workflow = workflow
        self.workflowVersion = workflowVersion
        self.title = title
        self.theme = theme
        self.group = group
        self.state = state
        self.version = version
        self.author = author
        self.createdAt = createdAt
        self.stateSince = stateSince
        self.dueAt = dueAt
        self.fields = fields
        self.revisions = revisions
        self.round = round
        self.votes = votes
        self.assignees = assignees
        self.endorsements = endorsements
        self.milestones = milestones
    }
}

public enum Verdict: String, Sendable, Hashable, CaseIterable, Codable {
    case approve, changes, reject
}

public struct Vote: Sendable, Hashable {
    public var reviewer: String
    public var verdict: Verdict
    /// The document revision count when the vote was cast.
    public var revision: Int
    public var at: Date
    public var comment: String?

    public init(reviewer: String, verdict: Verdict, revision: Int, at: Date, comment: String? = nil) {
        self.reviewer = reviewer
        self.verdict = verdict
        self.revision = revision
        self.at = at
        self.comment = comment
    }
}

public struct Endorsement: Sendable, Hashable {
    public var member: String
    public var by: String
    public var at: Date
    public var comment: String?

    public init(member: String, by: String, at: Date, comment: String? = nil) {
        self.member = member
        self.by = by
        self.at = at
        self.comment = comment
    }
}

public struct Milestone: Sendable, Hashable {
    public var number: Int
    public var title: String
    public var due: Date?
    public var doneAt: Date?

    public init(number: Int, title: String, due: Date? = nil, doneAt: Date? = nil) {
        self.number = number
        self.title = title
        self.due = due
        self.doneAt = doneAt
    }
}

/// Who issues a command, with the roles the directory gives them.
public struct Actor: Sendable, Hashable {
    public var handle: String
    /// The member government this user represents, if any.
    public var member: String?
    public var globalRoles: Set<Role>
    /// Roles per working group slug.
    public var groupRoles: [String: Set<Role>]

    public init(handle: String, member: String? = nil, globalRoles: Set<Role> = [], groupRoles: [String: Set<Role>] = [:]) {
        self.handle = handle
        self.member = member
        self.globalRoles = globalRoles
        self.groupRoles = groupRoles
    }

    /// The scheduler, which alone fires timed transitions.
    public static let system = Actor(handle: "system")
    public var isSystem: Bool { handle == Actor.system.handle }

    /// The roles this actor holds with respect to an item (or a group, before the item exists).
    public func roles(group: String?, author: String? = nil, assignees: [String] = []) -> Set<Role> {
        var roles = globalRoles
        if let group, let inGroup = groupRoles[group], !inGroup.isEmpty {
            roles.formUnion(inGroup)
            roles.insert(.group)
        }
        if let author, author == handle { roles.insert(.author) }
        if assignees.contains(handle) { roles.insert(.assignee) }
        if member != nil { roles.insert(.member) }
        return roles
    }

    public func roles(on item: ItemSnapshot) -> Set<Role> {
        roles(group: item.group, author: item.author, assignees: item.assignees)
    }
}
