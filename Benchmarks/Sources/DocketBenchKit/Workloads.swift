import DocketClient
import DocketWire
import Foundation

/// One request a worker sends, and what it needs to remember about it.
struct Request {
    var operation: Operation
    var args: [String]
    /// Sent on the worker's reviewer connection (votes) instead of its main one.
    var asReviewer = false
    /// The worker-local item index or paper index the request touches.
    var index = -1
    var member = ""
}

/// What a worker sends next, and how it learns from the replies. Sendable: each worker's
/// workload is made before the connections and moves to the worker that runs it.
protocol Workload: Sendable {
    mutating func next(_ rng: inout SplitMix64) -> Request
    /// Called with each reply; `error` is the class of an error reply (`DENIED`...), nil on success.
    mutating func completed(_ request: Request, error: String?)
}

/// PING.
struct PingWorkload: Workload {
    mutating func next(_ rng: inout SplitMix64) -> Request { Request(operation: .ping, args: ["PING"]) }
    mutating func completed(_ request: Request, error: String?) {}
}

/// ITEM.GET on random items of the whole population.
struct GetWorkload: Workload {
    let items: ItemIDs
    let count: Int

    init(items: ItemIDs) {
        self.items = items
        count = items.count
    }

    mutating func next(_ rng: inout SplitMix64) -> Request {
        Request(operation: .get, args: ["ITEM.GET", items.id(at: rng.below(count))])
    }

    mutating func completed(_ request: Request, error: String?) {}
}

/// The items one worker owns (every `workers`-th item, starting at its own index), so no two
/// workers fire on the same item and each knows where its items are in the cycle.
struct OwnedItems {
    let ids: [String]
    /// Whether each owned item is in appraisal (the second state of the cycle).
    var inAppraisal: [Bool]
    /// Owned items in appraisal, for votes; `position[i]` is i's place in it or -1.
    var appraisal: [Int] = []
    var position: [Int]
    var inFlight: Set<Int> = []

    init(items: ItemIDs, worker: Int, workers: Int, knownInAppraisal: Set<String>) {
        var ids: [String] = []
        var i = worker
        let n = items.count
        ids.reserveCapacity(n / workers + 1)
        while i < n {
            ids.append(items.id(at: i))
            i += workers
        }
        self.ids = ids
        inAppraisal = ids.map { knownInAppraisal.contains($0) }
        position = Array(repeating: -1, count: ids.count)
        for (i, a) in inAppraisal.enumerated() where a { setAppraisal(i, true) }
    }

    var count: Int { ids.count }

    mutating func setAppraisal(_ i: Int, _ value: Bool) {
        inAppraisal[i] = value
        if value, position[i] < 0 {
            position[i] = appraisal.count
            appraisal.append(i)
        } else if !value, position[i] >= 0 {
            let p = position[i]
            let moved = appraisal.removeLast()
            if moved != i {
                appraisal[p] = moved
                position[moved] = p
            }
            position[i] = -1
        }
    }

    /// A random owned item not already in flight (pipelining never sends two commands for one item).
    mutating func pickIdle(_ rng: inout SplitMix64) -> Int {
        var i = rng.below(count)
        var tries = 0
        while inFlight.contains(i), tries < 64 {
            i = rng.below(count)
            tries += 1
        }
        inFlight.insert(i)
        return i
    }

    /// A fire request on item `i` (the next transition of the cycle).
    func fire(_ i: Int) -> Request {
        Request(operation: .fire, args: ["ITEM.FIRE", ids[i], FireCycle.transition(inAppraisal: inAppraisal[i])], index: i)
    }

    /// After a fire: an accepted one moved the item; a denied one means the item was not where
    /// this worker thought (an earlier run left it there), so it is in the other state.
    mutating func fired(_ i: Int, error: String?) {
        inFlight.remove(i)
        if error == nil || error == "DENIED" { setAppraisal(i, !inAppraisal[i]) }
    }
}

/// ITEM.FIRE on random owned items.
struct FireWorkload: Workload {
    var owned: OwnedItems

    mutating func next(_ rng: inout SplitMix64) -> Request {
        owned.fire(owned.pickIdle(&rng))
    }

    mutating func completed(_ request: Request, error: String?) {
        owned.fired(request.index, error: error)
    }
}

/// The `mixed` scenario: see `MixedPlan`.
struct MixedWorkload: Workload {
    let plan: MixedPlan
    let all: ItemIDs
    let allCount: Int
    var owned: OwnedItems
    let group: String
    let members: [String]
    /// Policy papers this worker owns, with the members endorsing each.
    let papers: [String]
    var endorsed: [Set<String>]
    var listTurn = 0
    var revisionTurn = 0

    init(plan: MixedPlan, all: ItemIDs, owned: OwnedItems, group: String, members: [String], papers: [String], endorsed: [Set<String>]) {
        self.plan = plan
        self.all = all
        allCount = all.count
        self.owned = owned
        self.group = group
        self.members = members
        self.papers = papers
        self.endorsed = endorsed
    }

    mutating func next(_ rng: inout SplitMix64) -> Request {
        switch plan.pick(rng.below(plan.total)) {
        case .ping:
            return Request(operation: .ping, args: ["PING"])
        case .get:
            return Request(operation: .get, args: ["ITEM.GET", all.id(at: rng.below(allCount))])
        case .list:
            listTurn += 1
            return Request(operation: .list, args: MixedPlan.listCommand(listTurn, group: group))
        case .status:
            return Request(operation: .status, args: ["REPORT.STATUS"])
        case .fire:
            return owned.fire(owned.pickIdle(&rng))
        case .vote:
            guard !owned.appraisal.isEmpty else { return owned.fire(owned.pickIdle(&rng)) }
            let i = owned.appraisal[rng.below(owned.appraisal.count)]
            let verdict = rng.below(10) == 0 ? "CHANGES" : "APPROVE"
            return Request(operation: .vote, args: ["REVIEW.VOTE", owned.ids[i], verdict], asReviewer: true, index: i)
        case .revise:
            revisionTurn += 1
            let i = rng.below(owned.count)
            return Request(operation: .revise, args: ["ITEM.REVISE", owned.ids[i], Self.revisionText(revisionTurn), "NOTE", "load test"], index: i)
        case .endorse:
            guard !papers.isEmpty, !members.isEmpty else {
                revisionTurn += 1
                let i = rng.below(owned.count)
                return Request(operation: .revise, args: ["ITEM.REVISE", owned.ids[i], Self.revisionText(revisionTurn)], index: i)
            }
            let p = rng.below(papers.count)
            let m = members[rng.below(members.count)]
            let args = endorsed[p].contains(m) ? ["ENDORSE.WITHDRAW", papers[p], m] : ["ENDORSE", papers[p], m, "COMMENT", "load test"]
            return Request(operation: .endorse, args: args, index: p, member: m)
        }
    }

    mutating func completed(_ request: Request, error: String?) {
        switch request.operation {
        case .fire:
            owned.fired(request.index, error: error)
        case .endorse:
            // Accepted or refused (someone else's endorsement state), the member's mark flips.
            if error == nil || error == "DENIED" {
                if endorsed[request.index].contains(request.member) {
                    endorsed[request.index].remove(request.member)
                } else {
                    endorsed[request.index].insert(request.member)
                }
            }
        default:
            break
        }
    }

    /// A revision of about 1 KiB: a paragraph with the revision number in it.
    static func revisionText(_ n: Int) -> String {
        var text = "Revision \(n) of the project proposal.\n\n"
        let paragraph = "The working group proposes to pilot participatory budgeting for climate adaptation in three member cities, "
            + "with a shared method, a common evaluation framework and a report to the governing body. "
        while text.utf8.count < 1024 { text += paragraph }
        return text
    }
}
