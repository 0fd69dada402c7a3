import Foundation

/// The transitions the `fire` scenario cycles through.
///
/// No shipped workflow has a transition that loops to its own state, so the load tool cycles
/// the cheapest pair that returns to where it started: a thematic project's
/// `submit` (proposal → appraisal, by the author; requires summary, proposal, budget) and
/// `revise` (appraisal → proposal, by the secretariat). The bench user is the author and holds
/// the secretariat role, so both are always allowed. Entering appraisal schedules one
/// reminder; entering proposal schedules none. Each fire is a full ITEM.FIRE: lock and read
/// the row, decide, write the row, the event (with its hash) and the timers.
public enum FireCycle {
    public static let workflow = "thematic-project"
    public static let start = "proposal"
    public static let other = "appraisal"

    /// The transition to fire from `state`, and where it leads.
    public static func step(from state: String) -> (transition: String, to: String)? {
        switch state {
        case start: ("submit", other)
        case other: ("revise", start)
        default: nil
        }
    }

    /// The transition to fire on an item whose position in the cycle is `inAppraisal`.
    public static func transition(inAppraisal: Bool) -> String {
        step(from: inAppraisal ? other : start)!.transition
    }
}

/// One kind of request the load tool sends.
public enum Operation: String, CaseIterable, Sendable, Codable, Comparable {
    case ping, get, list, status, fire, vote, revise, endorse

    public static func < (a: Operation, b: Operation) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// Reads change nothing.
    public var isRead: Bool { [.ping, .get, .list, .status].contains(self) }
}

/// The `mixed` scenario's proportions, in percent: a day of the association in one minute.
///
/// 80% reads (ITEM.GET 45, ITEM.LIST 20, REPORT.STATUS 15), 15% transitions and votes
/// (ITEM.FIRE 10, REVIEW.VOTE 5), 5% revisions and endorsements (ITEM.REVISE 3,
/// ENDORSE/ENDORSE.WITHDRAW 2).
public struct MixedPlan: Sendable, Hashable {
    public var weights: [Weight]

    public struct Weight: Sendable, Hashable {
        public var operation: Operation
        public var percent: Int
        public init(_ operation: Operation, _ percent: Int) {
            self.operation = operation
            self.percent = percent
        }
    }

    public static let standard = MixedPlan(weights: [
        Weight(.get, 45), Weight(.list, 20), Weight(.status, 15),
        Weight(.fire, 10), Weight(.vote, 5),
        Weight(.revise, 3), Weight(.endorse, 2),
    ])

    public init(weights: [Weight]) {
        self.weights = weights
    }

    /// The sum of the weights (100 for the standard plan).
    public var total: Int { weights.reduce(0) { $0 + $1.percent } }

    /// The operation for a roll in `0..<total`.
    public func pick(_ roll: Int) -> Operation {
        var r = roll
        for w in weights {
            if r < w.percent { return w.operation }
            r -= w.percent
        }
        return weights.last!.operation
    }

    /// Percent of reads, of transitions and votes, of revisions and endorsements.
    public var shares: (reads: Int, transitionsAndVotes: Int, revisionsAndEndorsements: Int) {
        var s = (0, 0, 0)
        for w in weights {
            switch w.operation {
            case .ping, .get, .list, .status: s.0 += w.percent
            case .fire, .vote: s.1 += w.percent
            case .revise, .endorse: s.2 += w.percent
            }
        }
        return s
    }

    /// The ITEM.LIST filters `mixed` rotates through.
    public static func listCommand(_ n: Int, group: String) -> [String] {
        switch n % 4 {
        case 0: ["ITEM.LIST", "WORKFLOW", FireCycle.workflow, "STATE", FireCycle.other, "LIMIT", "20"]
        case 1: ["ITEM.LIST", "GROUP", group, "LIMIT", "20"]
        case 2: ["ITEM.LIST", "THEME", "sustainability", "LIMIT", "20"]
        default: ["ITEM.LIST", "STATE", "endorsement", "LIMIT", "20"]
        }
    }
}

/// A small fast generator (SplitMix64): one per worker, so workers never share state.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A number in `0..<n` (n > 0).
    public mutating func below(_ n: Int) -> Int {
        Int(next() % UInt64(n))
    }
}
