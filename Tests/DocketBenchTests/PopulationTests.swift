import Foundation
import Testing
@testable import DocketBenchKit

@Suite struct PopulationTests {
    @Test func idsCompressIntoRuns() {
        let ids = ItemIDs(prefix: "TP", numbers: [5, 3, 4, 9, 10, 1, 4])
        #expect(ids.runs == [.init(1, 1), .init(3, 5), .init(9, 10)])
        #expect(ids.count == 6)
        #expect((0..<ids.count).map(ids.id(at:)) == ["TP-1", "TP-3", "TP-4", "TP-5", "TP-9", "TP-10"])
        #expect(ids.number(of: "TP-42") == 42)
        #expect(ids.number(of: "PP-42") == nil)
    }

    @Test func aPrefixTakesTheFirstItems() {
        let ids = ItemIDs(prefix: "TP", runs: [.init(1, 3), .init(10, 20)])
        #expect(ids.prefix(5).runs == [.init(1, 3), .init(10, 11)])
        #expect(ids.prefix(0) == ids)
        #expect(ids.prefix(100) == ids)
        #expect(ids.adding([4, 21]).runs == [.init(1, 4), .init(10, 21)])
    }

    @Test func aPopulationSurvivesItsFile() throws {
        let who = Credentials(user: "bench-secretariat", token: "t0")
        let population = Population(
            group: "bench", secretariat: who, chair: Credentials(user: "bench-chair", token: "t1"),
            reviewers: [Credentials(user: "bench-reviewer-1", token: "t2")], members: ["bench-member-1"],
            projects: ItemIDs(prefix: "TP", runs: [.init(1, 1_000_000)]), papers: ["PP-1"])
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID().uuidString)/state.json").path
        try population.save(path)
        #expect(try Population.load(path) == population)
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
        #expect(size < 2000)
        #expect(throws: BenchError.self) { try Population.load(path + ".missing") }
    }
}
