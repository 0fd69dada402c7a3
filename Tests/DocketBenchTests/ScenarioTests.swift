import Testing
@testable import DocketBenchKit

@Suite struct ScenarioTests {
    @Test func scenariosParseFromTheirNames() {
        #expect(Scenario(argument: "fire") == .fire)
        #expect(Scenario(argument: "nope") == nil)
    }
}
