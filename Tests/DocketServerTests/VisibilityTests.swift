import DocketClient
import DocketTestSupport
import DocketWire
import Foundation
import Testing

/// Who may see and change what, through the admin server: drafts hidden outside their group
/// and the secretariat, admin-only directory commands, IFVERSION conflicts and idempotency keys.
@Suite("Visibility, roles, IFVERSION and KEY", .timeLimit(.minutes(10)))
struct VisibilityTests {
    /// Runs `body` as `user`, whose token is created on the spot.
    static func `as`<T: Sendable>(_ user: String, _ server: TestServer, resp3: Bool = false,
                                  _ body: @Sendable (DocketClient) async throws -> T) async throws -> T {
        try await server.withClient(user: user, resp3: resp3, body)
    }

    /// The error a command answers with, or nil if it succeeded.
    static func failure(_ client: DocketClient, _ args: [String]) async -> ServerError? {
        do {
            _ = try await client.call(args)
            return nil
        } catch let error as ServerError {
            return error
        } catch {
            Issue.record("\(args) failed with \(error)")
            return nil
        }
    }

    /// PP-1: a draft (hidden outside sustainability-wg and the secretariat) with two revisions.
    /// PP-2: submitted to peer review, visible to everyone. Six events in all, three each.
    static func draftAndSubmitted(_ server: TestServer) async throws {
        try await server.withClient { admin in try await EurasiaSection.setUp(admin) }
        try await Self.as("ana", server) { c in
            let draft = try await c.call("ITEM.CREATE", "policy-paper", "Water reuse in member cities", "THEME", "sustainability",
                                         "GROUP", "sustainability-wg")
            #expect(draft["id"]?.stringValue == "PP-1")
            try await c.call("ITEM.REVISE", "PP-1", "Reuse grey water.\n")
            try await c.call("ITEM.REVISE", "PP-1", "Reuse grey and rain water.\n")
            let open = try await c.call("ITEM.CREATE", "policy-paper", "Urban heat islands", "THEME", "sustainability",
                                        "GROUP", "sustainability-wg", "FIELD", "summary", "Shade and trees")
            #expect(open["id"]?.stringValue == "PP-2")
            try await c.call("ITEM.REVISE", "PP-2", "Plant trees.\n")
            let submitted = try await c.call("ITEM.FIRE", "PP-2", "submit")
            #expect(submitted["to"]?.stringValue == "peer-review")
        }
    }

    /// Waits until the event sequencer has numbered `count` events (EVENTS.READ as the admin).
    static func waitForSequencedEvents(_ server: TestServer, count: Int) async throws {
        try await server.withClient { admin in
            for _ in 0..<250 {
                if (try await admin.call("EVENTS.READ", "COUNT", "1000").arrayValue ?? []).count >= count { return }
                try await Task.sleep(for: .milliseconds(20))
            }
            Issue.record("the sequencer did not number \(count) events within 5 s")
        }
    }

    @Test("a draft answers NOTFOUND to a chair of another group, in every command and report", arguments: [false, true])
    func draftHiddenFromOutsiders(resp3: Bool) async throws {
        try await TestServer.with { server in
            try await Self.draftAndSubmitted(server)
            try await Self.waitForSequencedEvents(server, count: 6)
            try await Self.as("omar", server, resp3: resp3) { omar in
                // The same answer as for an item that does not exist: nothing leaks.
                let missing = await Self.failure(omar, ["ITEM.GET", "PP-99"])
                #expect(missing?.line == "NOTFOUND item PP-99 not found")
                let hidden: [[String]] = [
                    ["ITEM.GET", "PP-1"], ["ITEM.HISTORY", "PP-1"], ["ITEM.TEXT", "PP-1"], ["ITEM.TEXT", "PP-1", "REV", "1"],
                    ["ITEM.DIFF", "PP-1", "1", "2"], ["ITEM.EXPLAIN", "PP-1", "submit"], ["ITEM.EXPLAIN", "PP-1", "withdraw"],
                    ["ITEM.FIRE", "PP-1", "withdraw"], ["ITEM.FIRE", "PP-1", "submit", "COMMENT", "sneaky"],
                    ["ITEM.COMMENT", "PP-1", "I can see this"], ["ITEM.SET", "PP-1", "summary", "changed"],
                    ["ITEM.REVISE", "PP-1", "overwritten"], ["REVIEW.LIST", "PP-1"], ["ENDORSE.LIST", "PP-1"], ["MILESTONE.LIST", "PP-1"],
                ]
                for command in hidden {
                    let error = await Self.failure(omar, command)
                    #expect(error?.line == "NOTFOUND item PP-1 not found", "\(command) answered \(error?.line ?? "a reply")")
                }
                // The submitted paper is his to see, so he is not simply locked out.
                #expect(try await omar.call("ITEM.GET", "PP-2")["state"]?.stringValue == "peer-review")
                let listed = try await omar.call("ITEM.LIST").arrayValue ?? []
                #expect(listed.compactMap { $0["id"]?.stringValue } == ["PP-2"])
                #expect((try await omar.call("ITEM.LIST", "STATE", "drafting").arrayValue ?? []).isEmpty)
                let status = try await omar.call("REPORT.STATUS").arrayValue ?? []
                #expect(status.map { "\($0["state"]?.stringValue ?? "?"):\($0["items"]?.intValue ?? -1)" } == ["peer-review:1"])
                let waiting = try await omar.call("REPORT.WAITING").arrayValue ?? []
                #expect(waiting.compactMap { $0["item"]?.stringValue } == ["PP-2"])
                let events = try await omar.call("EVENTS.READ", "COUNT", "1000").arrayValue ?? []
                #expect(events.compactMap { $0["type"]?.stringValue } == ["created", "revision", "transition"], "PP-2's events only")
                #expect(events.allSatisfy { $0["item"]?.stringValue == "PP-2" })
            }
            // Nothing omar tried changed the draft.
            let history = try await Self.as("ana", server) { c in try await c.call("ITEM.HISTORY", "PP-1").arrayValue ?? [] }
            #expect(history.compactMap { $0["type"]?.stringValue } == ["created", "revision", "revision"])
        }
    }

    @Test("the group's reviewer and the secretariat see the draft everywhere", arguments: ["bruno", "sec"])
    func draftVisibleInside(user: String) async throws {
        try await TestServer.with { server in
            try await Self.draftAndSubmitted(server)
            try await Self.waitForSequencedEvents(server, count: 6)
            try await Self.as(user, server) { c in
                let item = try await c.call("ITEM.GET", "PP-1")
                #expect(item["state"]?.stringValue == "drafting" && item["author"]?.stringValue == "ana")
                #expect((try await c.call("ITEM.HISTORY", "PP-1").arrayValue ?? []).count == 3)
                #expect(try await c.call("ITEM.TEXT", "PP-1").stringValue == "Reuse grey and rain water.\n")
                let diff = try await c.call("ITEM.DIFF", "PP-1", "1", "2").stringValue ?? ""
                #expect(diff.contains("-Reuse grey water.\n+Reuse grey and rain water.\n"))
                let explained = try await c.call("ITEM.EXPLAIN", "PP-1", "submit")
                #expect(explained["allowed"]?.boolValue == false, "only the author or a drafter submits")
                let listed = try await c.call("ITEM.LIST").arrayValue ?? []
                #expect(listed.compactMap { $0["id"]?.stringValue } == ["PP-1", "PP-2"])
                let status = try await c.call("REPORT.STATUS").arrayValue ?? []
                #expect(status.map { "\($0["state"]?.stringValue ?? "?"):\($0["items"]?.intValue ?? -1)" } == ["drafting:1", "peer-review:1"])
                let waiting = try await c.call("REPORT.WAITING").arrayValue ?? []
                #expect(waiting.compactMap { $0["item"]?.stringValue }.sorted() == ["PP-1", "PP-2"])
                let events = try await c.call("EVENTS.READ", "COUNT", "1000").arrayValue ?? []
                #expect(events.count == 6)
                #expect(events.filter { $0["item"]?.stringValue == "PP-1" }.count == 3)
            }
            // The secretariat may withdraw the draft; the reviewer may not.
            if user == "sec" {
                let fired = try await Self.as(user, server) { c in try await c.call("ITEM.FIRE", "PP-1", "withdraw") }
                #expect(fired["to"]?.stringValue == "withdrawn")
            } else {
                let refused = try await Self.as(user, server) { c in await Self.failure(c, ["ITEM.FIRE", "PP-1", "withdraw"]) }
                #expect(refused?.code == "DENIED")
            }
        }
    }

    @Test("directory and workflow commands are admin-only: NOPERM for others, and nothing changes")
    func adminOnly() async throws {
        try await TestServer.with { server in
            try await server.withClient { admin in try await EurasiaSection.setUp(admin) }
            let yaml = try String(contentsOf: TestDatabase.packageRoot.appendingPathComponent("Workflows/policy-paper.yaml"), encoding: .utf8)
                .replacingOccurrences(of: "version: 1", with: "version: 2")
            let commands: [[String]] = [
                ["MEMBER.ADD", "yerevan", "Երևան", "COUNTRY", "AM"], ["USER.ADD", "mallory", "Mallory", "ROLE", "admin"],
                ["USER.GRANT", "omar", "secretariat"], ["USER.REVOKE", "ana", "drafter", "GROUP", "sustainability-wg"],
                ["GROUP.ADD", "shadow-wg", "Shadow group"], ["THEME.ADD", "secrets", "Secrets"],
                ["TOKEN.CREATE", "ana"], ["TOKEN.REVOKE", "admin"], ["WORKFLOW.LOAD", yaml],
            ]
            for user in ["omar", "rep-almaty", "sec"] {
                try await Self.as(user, server) { c throws in
                    for command in commands {
                        let error = await Self.failure(c, command)
                        #expect(error?.code == "NOPERM", "\(user): \(command[0]) answered \(error?.line ?? "a reply")")
                        #expect(error?.message.contains("needs the admin role") == true)
                    }
                    // The LIST commands are open to every user.
                    #expect((try await c.call("MEMBER.LIST").arrayValue ?? []).count == 4)
                    #expect((try await c.call("USER.LIST").arrayValue ?? []).contains { $0["handle"]?.stringValue == "ana" })
                }
            }
            try await server.withClient { admin in
                let users = (try await admin.call("USER.LIST").arrayValue ?? []).compactMap { $0["handle"]?.stringValue }
                #expect(!users.contains("mallory"))
                #expect((try await admin.call("MEMBER.LIST").arrayValue ?? []).count == 4)
                #expect((try await admin.call("GROUP.LIST").arrayValue ?? []).count == 2)
                let omar = try await admin.call("USER.LIST").arrayValue?.first { $0["handle"]?.stringValue == "omar" }
                #expect(omar?["roles"]?.arrayValue?.isEmpty == true)
                let workflow = try await admin.call("WORKFLOW.GET", "policy-paper")
                #expect(workflow["version"]?.intValue == 1)
                // The admin token still works: TOKEN.REVOKE admin was refused.
                #expect(try await admin.call("PING").stringValue == "PONG")
                // And the admin may do what the others may not.
                try await admin.call("USER.ADD", "mallory", "Mallory")
                #expect(try await admin.call("WORKFLOW.LOAD", yaml)["version"]?.intValue == 2)
            }
        }
    }

    @Test("a stale IFVERSION is CONFLICT with the current version in the message; nothing is written", arguments: [false, true])
    func staleVersion(resp3: Bool) async throws {
        try await TestServer.with { server in
            try await server.withClient { admin in try await EurasiaSection.setUp(admin) }
            try await Self.as("ana", server, resp3: resp3) { c in
                try await c.call("ITEM.CREATE", "policy-paper", "Resilient cities", "GROUP", "sustainability-wg")
                let set = try await c.call("ITEM.SET", "PP-1", "summary", "First", "IFVERSION", "1")
                #expect(set["version"]?.intValue == 2)
                try await c.call("ITEM.REVISE", "PP-1", "Body.\n")
                let stale = await Self.failure(c, ["ITEM.SET", "PP-1", "summary", "Second", "IFVERSION", "2"])
                #expect(stale?.line == "CONFLICT PP-1 is at version 3, not 2")
                let staleFire = await Self.failure(c, ["ITEM.FIRE", "PP-1", "submit", "IFVERSION", "1"])
                #expect(staleFire?.code == "CONFLICT")
                #expect(staleFire?.message.contains("version 3") == true)
                let item = try await c.call("ITEM.GET", "PP-1")
                #expect(item["version"]?.intValue == 3 && item["state"]?.stringValue == "drafting")
                #expect(item["fields"]?["summary"]?.stringValue == "First")
                let fired = try await c.call("ITEM.FIRE", "PP-1", "submit", "IFVERSION", "3")
                #expect(fired["version"]?.intValue == 4 && fired["to"]?.stringValue == "peer-review")
            }
        }
    }

    @Test("the same KEY twice returns the first event and appends nothing", arguments: [false, true])
    func idempotencyKey(resp3: Bool) async throws {
        try await TestServer.with { server in
            try await server.withClient { admin in try await EurasiaSection.setUp(admin) }
            try await Self.as("ana", server, resp3: resp3) { c in
                let created = try await c.call("ITEM.CREATE", "policy-paper", "Clean air", "GROUP", "sustainability-wg",
                                               "FIELD", "summary", "Less traffic", "KEY", "create-clean-air")
                let again = try await c.call("ITEM.CREATE", "policy-paper", "Clean air", "GROUP", "sustainability-wg",
                                             "FIELD", "summary", "Less traffic", "KEY", "create-clean-air")
                #expect(created["id"]?.stringValue == "PP-1" && again["id"]?.stringValue == "PP-1")
                try await c.call("ITEM.REVISE", "PP-1", "Fewer cars.\n")
                let before = (try await c.call("ITEM.HISTORY", "PP-1").arrayValue ?? []).count
                #expect(before == 2)

                let first = try await c.call("ITEM.FIRE", "PP-1", "submit", "COMMENT", "ready", "KEY", "submit-1")
                let second = try await c.call("ITEM.FIRE", "PP-1", "submit", "COMMENT", "ready", "KEY", "submit-1")
                for key in ["item", "type", "transition", "from", "to", "actor", "at", "comment", "version", "hash"] {
                    #expect(first[key] == second[key], "\(key) differs: \(String(describing: first[key])) vs \(String(describing: second[key]))")
                }
                #expect(first["to"]?.stringValue == "peer-review" && first["version"]?.intValue == 3)
                let history = try await c.call("ITEM.HISTORY", "PP-1").arrayValue ?? []
                #expect(history.count == before + 1)
                #expect(history.filter { $0["type"]?.stringValue == "transition" }.count == 1)
                #expect(history.last?["hash"] == first["hash"])

                // Without the key the same command is decided afresh, and refused: it is no longer in drafting.
                let fresh = await Self.failure(c, ["ITEM.FIRE", "PP-1", "submit", "COMMENT", "ready"])
                #expect(fresh?.code == "DENIED")
                // A key reused for another command is refused rather than misapplied.
                let otherCommand = await Self.failure(c, ["ITEM.FIRE", "PP-1", "withdraw", "KEY", "submit-1"])
                #expect(otherCommand?.code == "INVALID", "\(otherCommand?.line ?? "a reply")")
                #expect((try await c.call("ITEM.GET", "PP-1"))["state"]?.stringValue == "peer-review")
            }
        }
    }
}
