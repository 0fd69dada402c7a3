import DocketClient
import DocketTestSupport
import DocketWire
import Foundation
import Testing

@Suite("Server smoke", .timeLimit(.minutes(10)))
struct SmokeTests {
    @Test("boots on port 0 and answers PING and WHOAMI")
    func boot() async throws {
        try await TestServer.with { server in
            #expect(server.port > 0)
            try await server.withClient { c in
                let pong = try await c.call("PING")
                #expect(pong.stringValue == "PONG")
                let me = try await c.call("WHOAMI")
                #expect(me["user"]?.stringValue == "admin")
            }
        }
    }
}
