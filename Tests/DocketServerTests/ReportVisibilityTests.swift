import DocketClient
import DocketTestSupport
import DocketWire
import Foundation
import Testing

@Suite("REPORT.CYCLE and hidden states", .timeLimit(.minutes(10)))
struct ReportVisibilityTests {
    @Test("time spent in draft states is reported to the secretariat, not to people outside the group")
    func cycleHidesDrafts() async throws {
        try await TestServer.with { server in
            try await server.withClient { admin in try await EurasiaSection.setUp(admin) }
            _ = try await server.withClient(user: "ana") { c in
                try await c.call("ITEM.CREATE", "policy-paper", "Draft on urban heat", "THEME", "sustainability", "GROUP", "sustainability-wg")
            }
            func states(_ user: String) async throws -> [String] {
                try await server.withClient(user: user) { c in
                    (try await c.call("REPORT.CYCLE", "WORKFLOW", "policy-paper").arrayValue ?? []).compactMap { $0["state"]?.stringValue }
                }
            }
            #expect(try await states("sec") == ["drafting"])
            #expect(try await states("omar") == [])
        }
    }
}
