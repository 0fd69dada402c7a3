import Testing
@testable import DocketBenchKit

@Suite struct ScenarioTests {
    @Test func scenariosParseFromTheirNames() {
        #expect(Scenario(argument: "fire") == .fire)
        #expect(Scenario(argument: "nope") == nil)
    }

    @Test func theFireCycleReturnsToWhereItStarted() {
        let first = FireCycle.step(from: FireCycle.start)!
        let second = FireCycle.step(from: first.to)!
        #expect(first.transition == "submit")
        #expect(second.transition == "revise")
        #expect(second.to == FireCycle.start)
        #expect(FireCycle.step(from: "active") == nil)
        #expect(FireCycle.transition(inAppraisal: false) == "submit")
        #expect(FireCycle.transition(inAppraisal: true) == "revise")
    }

    @Test func theMixedPlanIsEightyFifteenFive() {
        let plan = MixedPlan.standard
        #expect(plan.total == 100)
        let shares = plan.shares
        #expect(shares.reads == 80)
        #expect(shares.transitionsAndVotes == 15)
        #expect(shares.revisionsAndEndorsements == 5)
        var counts: [Operation: Int] = [:]
        for roll in 0..<plan.total { counts[plan.pick(roll), default: 0] += 1 }
        #expect(counts == [.get: 45, .list: 20, .status: 15, .fire: 10, .vote: 5, .revise: 3, .endorse: 2])
        #expect(plan.pick(0) == .get)
        #expect(plan.pick(99) == .endorse)
    }

    @Test func listFiltersRotate() {
        let commands = (0..<4).map { MixedPlan.listCommand($0, group: "bench") }
        #expect(Set(commands.map { $0.joined(separator: " ") }).count == 4)
        #expect(commands.allSatisfy { $0.first == "ITEM.LIST" && $0.contains("LIMIT") })
        #expect(commands[1].contains("bench"))
    }

    @Test func theGeneratorIsDeterministicAndInRange() {
        var a = SplitMix64(seed: 42)
        var b = SplitMix64(seed: 42)
        let xs = (0..<100).map { _ in a.below(7) }
        #expect(xs == (0..<100).map { _ in b.below(7) })
        #expect(xs.allSatisfy { (0..<7).contains($0) })
        #expect(Set(xs).count == 7)
    }

    @Test func workersOwnDisjointItemsAndTrackTheCycle() {
        let ids = ItemIDs(prefix: "TP", runs: [.init(1, 10)])
        let w0 = OwnedItems(items: ids, worker: 0, workers: 3, knownInAppraisal: ["TP-4"])
        let w1 = OwnedItems(items: ids, worker: 1, workers: 3, knownInAppraisal: [])
        let w2 = OwnedItems(items: ids, worker: 2, workers: 3, knownInAppraisal: [])
        #expect(w0.ids == ["TP-1", "TP-4", "TP-7", "TP-10"])
        #expect(Set(w0.ids + w1.ids + w2.ids).count == 10)
        var owned = w0
        #expect(owned.appraisal == [1])
        #expect(owned.fire(1).args == ["ITEM.FIRE", "TP-4", "revise"])
        #expect(owned.fire(0).args == ["ITEM.FIRE", "TP-1", "submit"])
        owned.fired(0, error: nil)
        #expect(owned.inAppraisal[0])
        owned.fired(1, error: "DENIED")
        #expect(!owned.inAppraisal[1])
        #expect(owned.appraisal == [0])
        owned.fired(0, error: "UNAVAILABLE")
        #expect(owned.inAppraisal[0])
    }
}
