/// A workflow as declared in `Workflows/*.yaml`: states, the transitions out of each and
/// the declarative guards on them.
public struct WorkflowDefinition: Sendable, Hashable {
    public var name: String
    public var version: Int
    public var title: String
    /// Item ids are the prefix and a number: `PP-12`.
    public var prefix: String
    /// Who may create items. Empty means the default: the group's roles, secretariat, admin.
    public var create: [Role]
    public var fields: [FieldDefinition]
    public var initial: String
    public var states: [StateDefinition]
    /// Where each key and value stood in the YAML source, for diagnostics.
    public var locations: SourceLocations

    public init(
        name: String, version: Int, title: String, prefix: String, create: [Role] = [],
        fields: [FieldDefinition] = [], initial: String, states: [StateDefinition],
        locations: SourceLocations = SourceLocations()
    ) {
        self.name = name
        self.version = version
        self.title = title
        self.prefix = prefix
        self.create = create
        self.fields = fields
        self.initial = initial
        self.states = states
        self.locations = locations
    }

    // The lookups find an index first: `first(where:)` copies every element it passes over
    // (a retain of each of its strings and arrays), and ITEM.GET looks its state up twice.
    public func state(_ name: String) -> StateDefinition? { states.firstIndex { $0.name == name }.map { states[$0] } }
    public func field(_ name: String) -> FieldDefinition? { fields.firstIndex { $0.name == name }.map { fields[$0] } }

    /// Roles allowed to create items when `create` is not given.
    public static let defaultCreators: [Role] = [.chair, .drafter, .reviewer, .secretariat, .admin]
    public var creators: [Role] { create.isEmpty ? Self.defaultCreators : create }
}

/// A field an item of the workflow carries.
public struct FieldDefinition: Sendable, Hashable {
    public enum FieldType: Sendable, Hashable {
        /// Free text on one or several lines.
        case text
        /// A long document revised with `ITEM.REVISE`; every revision is kept.
        case document
        /// An integer or decimal number.
        case number
        /// A calendar date, `2026-11-28`.
        case date
        /// One of a fixed list of values.
        case choice([String])

        public var name: String {
            switch self {
            case .text: "text"
            case .document: "document"
            case .number: "number"
            case .date: "date"
            case .choice: "choice"
            }
        }
    }

    public var name: String
    public var type: FieldType
    public var title: String?

    public init(name: String, type: FieldType, title: String? = nil) {
        self.name = name
        self.type = type
        self.title = title
    }
}

/// One state of a workflow.
public struct StateDefinition: Sendable, Hashable {
    public var name: String
    public var title: String?
    public var transitions: [TransitionDefinition]
    /// Items are overdue this long after entering the state.
    public var due: WorkflowDuration?
    /// Reminders this long after entering the state.
    public var remind: [WorkflowDuration]
    /// Reviewers vote while an item is here.
    public var review: ReviewPolicy?
    /// Member governments may endorse while an item is here.
    public var endorse: Bool
    /// Who can see an item in this state; nil means everyone.
    public var visibleTo: [Role]?
    public var final: Bool
    /// States of earlier versions this one takes the place of, for `WORKFLOW.MIGRATE`.
    public var replaces: [String] = []

    public init(
        name: String, title: String? = nil, transitions: [TransitionDefinition] = [],
        due: WorkflowDuration? = nil, remind: [WorkflowDuration] = [], review: ReviewPolicy? = nil,
        endorse: Bool = false, visibleTo: [Role]? = nil, final: Bool = false
    ) {
        self.name = name
        self.title = title
        self.transitions = transitions
        self.due = due
        self.remind = remind
        self.review = review
        self.endorse = endorse
        self.visibleTo = visibleTo
        self.final = final
    }

    public func transition(_ name: String) -> TransitionDefinition? {
        transitions.firstIndex { $0.name == name }.map { transitions[$0] }
    }

    /// A state a person must act in: not final, and at least one transition a person fires.
    public var isHuman: Bool { !final && transitions.contains { $0.after == nil } }
}

/// Who reviews items in a state.
public struct ReviewPolicy: Sendable, Hashable {
    public var by: [Role]
    public var not: [Role]
    /// A vote cast before the latest revision of the document no longer counts.
    public var staleOnRevision: Bool

    public init(by: [Role], not: [Role] = [], staleOnRevision: Bool = false) {
        self.by = by
        self.not = not
        self.staleOnRevision = staleOnRevision
    }
}

/// A transition out of a state and its guards.
public struct TransitionDefinition: Sendable, Hashable {
    public var name: String
    public var to: String
    /// Roles that may fire it (any one suffices). Empty for timed transitions.
    public var by: [Role]
    /// Roles that may not fire it even when `by` allows (separation of duties).
    public var not: [Role]
    /// Fields that must be filled; a `document` field needs at least one revision.
    public var require: [String]
    public var quorum: Quorum?
    /// Fired by the scheduler this long after the item entered the state.
    public var after: WorkflowDuration?

    public init(
        name: String, to: String, by: [Role] = [], not: [Role] = [], require: [String] = [],
        quorum: Quorum? = nil, after: WorkflowDuration? = nil
    ) {
        self.name = name
        self.to = to
        self.by = by
        self.not = not
        self.require = require
        self.quorum = quorum
        self.after = after
    }

    public var isTimed: Bool { after != nil }
}

/// Counts a transition needs. `approve`, `endorsements` and `milestones` are minimums;
/// `changes` and `reject` are maximums (`reject: 0` means no rejection). Any count can be
/// given explicitly as `{ min: n }` or `{ max: n }`.
public struct Quorum: Sendable, Hashable {
    public struct Bound: Sendable, Hashable {
        public var min: Int?
        public var max: Int?
        public init(min: Int? = nil, max: Int? = nil) {
            self.min = min
            self.max = max
        }

        public func holds(_ count: Int) -> Bool {
            (min.map { count >= $0 } ?? true) && (max.map { count <= $0 } ?? true)
        }

        public var description: String {
            switch (min, max) {
            case let (lo?, hi?): "between \(lo) and \(hi)"
            case let (lo?, nil): "at least \(lo)"
            case let (nil, hi?): "at most \(hi)"
            case (nil, nil): "any number"
            }
        }
    }

    public enum Milestones: Sendable, Hashable {
        /// Every milestone done, and at least one exists.
        case all
        case atLeast(Int)
    }

    public var approve: Bound?
    public var changes: Bound?
    public var reject: Bound?
    public var endorsements: Bound?
    public var milestones: Milestones?

    public init(
        approve: Bound? = nil, changes: Bound? = nil, reject: Bound? = nil,
        endorsements: Bound? = nil, milestones: Milestones? = nil
    ) {
        self.approve = approve
        self.changes = changes
        self.reject = reject
        self.endorsements = endorsements
        self.milestones = milestones
    }

    public var countsVotes: Bool { approve != nil || changes != nil || reject != nil }
}

/// Line and column of the YAML nodes a definition came from, keyed by path
/// (`states.peer-review.on.accept.to`).
public struct SourceLocations: Sendable, Hashable {
    public struct Location: Sendable, Hashable {
        public var line: Int
        public var column: Int
        public init(line: Int, column: Int) {
            self.line = line
            self.column = column
        }
    }

    var table: [String: Location] = [:]

    public init() {}

    public subscript(path: String) -> Location? {
        get { table[path] }
        set { table[path] = newValue }
    }

    /// The location of `path`, or of its nearest ancestor that has one.
    public func nearest(_ path: String) -> Location? {
        var current = Substring(path)
        while true {
            if let found = table[String(current)] { return found }
            guard let dot = current.lastIndex(of: ".") else { return table[""] }
            current = current[..<dot]
        }
    }
}
