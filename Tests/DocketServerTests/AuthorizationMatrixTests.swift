import DocketClient
import DocketTestSupport
import DocketWire
import Foundation
import NIOConcurrencyHelpers
import Testing

/// Every command against every role, checked exhaustively against one table, and the ways a
/// hidden draft could leak to someone outside its group.
///
/// The roles: anonymous (no AUTH), a plain user (no role at all), a drafter, a reviewer and a
/// chair of the sustainability working group, a member government's representative, the
/// secretariat and the admin. Items are written by `ivan`, a drafter who is none of them, so
/// that no tested user is the author.
@Suite("Authorisation matrix: every command x every role", .timeLimit(.minutes(10)))
struct AuthorizationMatrixTests {
    enum Role: String, CaseIterable, Sendable {
        case anonymous, plain, drafter, reviewer, chair, member, secretariat, admin
        /// The user who plays the role.
        var user: String? {
            switch self {
            case .anonymous: nil
            case .plain: "pat"
            case .drafter: "ana"
            case .reviewer: "bruno"
            case .chair: "dilnoza"
            case .member: "rep-almaty"
            case .secretariat: "sec"
            case .admin: "admin"
            }
        }
    }

    /// What a row acts on. Rows that change things get a fresh item per role, so one role's
    /// success never decides another's outcome.
    enum Fixture: Sendable {
        case none
        /// The shared draft (drafting, hidden outside the group and the secretariat; two revisions).
        case sharedDraft
        /// The shared paper in peer review (public).
        case sharedReview
        case draft, review, reviewWithQuorum, secretariatReview, endorsement, endorsed, activeProject
    }

    struct Row: Sendable, CustomStringConvertible {
        var name: String
        var fixture: Fixture
        /// The command, given the item id and a tag unique to the role (for names that must not clash).
        var args: @Sendable (_ id: String, _ tag: String) -> [String]
        /// One letter per role, in `Role.allCases` order: `+` allowed, `A` NOAUTH, `P` NOPERM,
        /// `D` DENIED (a guard refused), `N` NOTFOUND (invisible), `W` WRONGPASS.
        var expected: String
        var description: String { name }
    }

    static func row(_ name: String, _ fixture: Fixture = .none, _ expected: String, _ args: @escaping @Sendable (String, String) -> [String]) -> Row {
        Row(name: name, fixture: fixture, args: args, expected: expected.replacingOccurrences(of: " ", with: ""))
    }

    static let definitionYAML = """
        workflow: matrix-flow
        version: 1
        title: Matrix flow
        prefix: MX
        initial: open
        states:
          open:
            due: 1d
            on:
              close: { to: closed, by: [secretariat] }
          closed: { final: true }
        """

    //                  roles:  anon plain drafter reviewer chair member secretariat admin
    static let rows: [Row] = [
        // Connection
        row("PING", .none, "+ + + + + + + +") { _, _ in ["PING"] },
        row("ECHO", .none, "A + + + + + + +") { _, _ in ["ECHO", "x"] },
        row("AUTH with a wrong token", .none, "W W W W W W W W") { _, _ in ["AUTH", "ana", "dkt_wrong"] },
        row("HELLO 3", .none, "A + + + + + + +") { _, _ in ["HELLO", "3"] },
        row("CLIENT SETNAME", .none, "A + + + + + + +") { _, tag in ["CLIENT", "SETNAME", "c-\(tag)"] },
        row("CLIENT GETNAME", .none, "A + + + + + + +") { _, _ in ["CLIENT", "GETNAME"] },
        row("CLIENT ID", .none, "A + + + + + + +") { _, _ in ["CLIENT", "ID"] },
        row("SELECT 0", .none, "A + + + + + + +") { _, _ in ["SELECT", "0"] },
        row("COMMAND DOCS", .none, "A + + + + + + +") { _, _ in ["COMMAND", "DOCS"] },
        row("CONFIG GET", .none, "A + + + + + + +") { _, _ in ["CONFIG", "GET", "save"] },
        row("INFO", .none, "A + + + + + + +") { _, _ in ["INFO"] },
        row("WHOAMI", .none, "A + + + + + + +") { _, _ in ["WHOAMI"] },
        // Items: reading the hidden draft
        row("ITEM.GET draft", .sharedDraft, "A N + + + N + +") { id, _ in ["ITEM.GET", id] },
        row("ITEM.HISTORY draft", .sharedDraft, "A N + + + N + +") { id, _ in ["ITEM.HISTORY", id] },
        row("ITEM.TEXT draft", .sharedDraft, "A N + + + N + +") { id, _ in ["ITEM.TEXT", id] },
        row("ITEM.TEXT draft REV 1", .sharedDraft, "A N + + + N + +") { id, _ in ["ITEM.TEXT", id, "REV", "1"] },
        row("ITEM.DIFF draft", .sharedDraft, "A N + + + N + +") { id, _ in ["ITEM.DIFF", id, "1", "2"] },
        row("ITEM.EXPLAIN draft submit", .sharedDraft, "A N + + + N + +") { id, _ in ["ITEM.EXPLAIN", id, "submit"] },
        row("REVIEW.LIST draft", .sharedDraft, "A N + + + N + +") { id, _ in ["REVIEW.LIST", id] },
        row("ENDORSE.LIST draft", .sharedDraft, "A N + + + N + +") { id, _ in ["ENDORSE.LIST", id] },
        row("MILESTONE.LIST draft", .sharedDraft, "A N + + + N + +") { id, _ in ["MILESTONE.LIST", id] },
        // Items: reading the public paper
        row("ITEM.GET in review", .sharedReview, "A + + + + + + +") { id, _ in ["ITEM.GET", id] },
        row("ITEM.HISTORY in review", .sharedReview, "A + + + + + + +") { id, _ in ["ITEM.HISTORY", id] },
        row("REVIEW.LIST in review", .sharedReview, "A + + + + + + +") { id, _ in ["REVIEW.LIST", id] },
        row("ITEM.EXPLAIN accept", .sharedReview, "A + + + + + + +") { id, _ in ["ITEM.EXPLAIN", id, "accept"] },
        row("ITEM.EXPLAIN accept AS the chair", .sharedReview, "A P P P + P + +") { id, _ in ["ITEM.EXPLAIN", id, "accept", "AS", "dilnoza"] },
        row("ITEM.LIST", .none, "A + + + + + + +") { _, _ in ["ITEM.LIST"] },
        // Items: creating and changing
        row("ITEM.CREATE policy paper in the group", .none, "A D + D + D + D") { _, tag in
            ["ITEM.CREATE", "policy-paper", "Paper by \(tag)", "GROUP", "sustainability-wg"]
        },
        row("ITEM.CREATE membership application", .none, "A D D D D D + +") { _, tag in ["ITEM.CREATE", "membership-application", "Application \(tag)"] },
        row("ITEM.SET draft field", .draft, "A N + D + N + D") { id, _ in ["ITEM.SET", id, "summary", "changed"] },
        row("ITEM.REVISE draft", .draft, "A N + D + N + D") { id, _ in ["ITEM.REVISE", id, "New text.\n"] },
        row("ITEM.COMMENT draft", .draft, "A N + + + N + +") { id, _ in ["ITEM.COMMENT", id, "a remark"] },
        row("ITEM.COMMENT in review", .review, "A + + + + + + +") { id, _ in ["ITEM.COMMENT", id, "a remark"] },
        row("ITEM.FIRE draft submit", .draft, "A N + D D N D D") { id, _ in ["ITEM.FIRE", id, "submit"] },
        row("ITEM.FIRE draft withdraw", .draft, "A N D D D N + D") { id, _ in ["ITEM.FIRE", id, "withdraw"] },
        row("ITEM.FIRE accept with quorum", .reviewWithQuorum, "A D D D + D D D") { id, _ in ["ITEM.FIRE", id, "accept"] },
        row("ITEM.FIRE send-back from review", .review, "A D D D + D + D") { id, _ in ["ITEM.FIRE", id, "send-back"] },
        row("ITEM.FIRE expire (timed)", .review, "A D D D D D D D") { id, _ in ["ITEM.FIRE", id, "expire"] },
        row("ITEM.FIRE open-endorsement", .secretariatReview, "A D D D D D + D") { id, _ in ["ITEM.FIRE", id, "open-endorsement"] },
        row("ITEM.SET in review", .review, "A D + D + D + D") { id, _ in ["ITEM.SET", id, "summit", "Summit"] },
        // Reviews, endorsements, milestones
        row("REVIEW.ASSIGN", .review, "A D D D + D + D") { id, _ in ["REVIEW.ASSIGN", id, "vera"] },
        row("REVIEW.VOTE", .review, "A D D + D D D D") { id, _ in ["REVIEW.VOTE", id, "APPROVE"] },
        row("REVIEW.VOTE on a draft", .draft, "A N D D D N D D") { id, _ in ["REVIEW.VOTE", id, "APPROVE"] },
        row("ENDORSE for almaty", .endorsement, "A D D D D + + D") { id, _ in ["ENDORSE", id, "almaty"] },
        row("ENDORSE for kazan", .endorsement, "A D D D D D + D") { id, _ in ["ENDORSE", id, "kazan"] },
        row("ENDORSE.WITHDRAW almaty", .endorsed, "A D D D D + + D") { id, _ in ["ENDORSE.WITHDRAW", id, "almaty"] },
        row("ENDORSE.LIST", .endorsed, "A + + + + + + +") { id, _ in ["ENDORSE.LIST", id] },
        row("MILESTONE.ADD", .activeProject, "A D + D + D + D") { id, _ in ["MILESTONE.ADD", id, "Second report"] },
        row("MILESTONE.DONE", .activeProject, "A D + D + D + D") { id, _ in ["MILESTONE.DONE", id, "1"] },
        row("MILESTONE.LIST", .activeProject, "A + + + + + + +") { id, _ in ["MILESTONE.LIST", id] },
        // Workflows
        row("WORKFLOW.LIST", .none, "A + + + + + + +") { _, _ in ["WORKFLOW.LIST"] },
        row("WORKFLOW.GET", .none, "A + + + + + + +") { _, _ in ["WORKFLOW.GET", "policy-paper"] },
        row("WORKFLOW.CHECK", .none, "A + + + + + + +") { _, _ in ["WORKFLOW.CHECK", definitionYAML] },
        row("WORKFLOW.GRAPH", .none, "A + + + + + + +") { _, _ in ["WORKFLOW.GRAPH", "policy-paper", "MERMAID"] },
        row("WORKFLOW.LOAD", .none, "A P P P P P P +") { _, _ in ["WORKFLOW.LOAD", definitionYAML] },
        row("WORKFLOW.MIGRATE DRYRUN", .none, "A P P P P P P +") { _, _ in ["WORKFLOW.MIGRATE", "policy-paper", "1", "DRYRUN"] },
        // Directory
        row("MEMBER.ADD", .none, "A P P P P P P +") { _, tag in ["MEMBER.ADD", "city-\(tag)", "City \(tag)"] },
        row("MEMBER.LIST", .none, "A + + + + + + +") { _, _ in ["MEMBER.LIST"] },
        row("USER.ADD", .none, "A P P P P P P +") { _, tag in ["USER.ADD", "new-\(tag)", "New \(tag)"] },
        row("USER.LIST", .none, "A + + + + + + +") { _, _ in ["USER.LIST"] },
        row("USER.GRANT", .none, "A P P P P P P +") { _, _ in ["USER.GRANT", "zed", "reviewer", "GROUP", "sustainability-wg"] },
        row("USER.REVOKE", .none, "A P P P P P P +") { _, _ in ["USER.REVOKE", "zed", "drafter", "GROUP", "sustainability-wg"] },
        row("GROUP.ADD", .none, "A P P P P P P +") { _, tag in ["GROUP.ADD", "group-\(tag)", "Group \(tag)"] },
        row("GROUP.LIST", .none, "A + + + + + + +") { _, _ in ["GROUP.LIST"] },
        row("THEME.ADD", .none, "A P P P P P P +") { _, tag in ["THEME.ADD", "theme-\(tag)", "Theme \(tag)"] },
        row("THEME.LIST", .none, "A + + + + + + +") { _, _ in ["THEME.LIST"] },
        row("TOKEN.CREATE", .none, "A P P P P P P +") { _, _ in ["TOKEN.CREATE", "zed"] },
        row("TOKEN.REVOKE", .none, "A P P P P P P +") { _, _ in ["TOKEN.REVOKE", "zed"] },
        // Tracking
        row("REPORT.STATUS", .none, "A + + + + + + +") { _, _ in ["REPORT.STATUS"] },
        row("REPORT.WAITING", .none, "A + + + + + + +") { _, _ in ["REPORT.WAITING"] },
        row("REPORT.CYCLE", .none, "A + + + + + + +") { _, _ in ["REPORT.CYCLE"] },
        row("EVENTS.READ", .none, "A + + + + + + +") { _, _ in ["EVENTS.READ", "COUNT", "10"] },
        row("WATCH", .none, "A + + + + + + +") { _, _ in ["WATCH", "ITEM", "PP-0"] },
        row("UNWATCH", .none, "A + + + + + + +") { _, _ in ["UNWATCH"] },
        row("AUDIT.VERIFY", .none, "A P P P P P + +") { _, _ in ["AUDIT.VERIFY"] },
    ]

    /// Long-lived connections of the people who prepare items: ivan writes, chen and vera
    /// review, dilnoza chairs, sec runs the secretariat.
    struct Preparers: Sendable {
        var ivan, chen, vera, dilnoza, sec: DocketClient

        func draft() async throws -> String {
            let item = try await ivan.call("ITEM.CREATE", "policy-paper", "Matrix paper", "THEME", "sustainability", "GROUP", "sustainability-wg",
                                           "FIELD", "summary", "Summary")
            let id = try #require(item["id"]?.stringValue)
            try await ivan.call("ITEM.REVISE", id, "First text.\n")
            return id
        }

        func review() async throws -> String {
            let id = try await draft()
            try await ivan.call("ITEM.FIRE", id, "submit")
            return id
        }

        func reviewWithQuorum() async throws -> String {
            let id = try await review()
            try await chen.call("REVIEW.VOTE", id, "APPROVE")
            try await vera.call("REVIEW.VOTE", id, "APPROVE")
            return id
        }

        func secretariatReview() async throws -> String {
            let id = try await reviewWithQuorum()
            try await dilnoza.call("ITEM.FIRE", id, "accept")
            return id
        }

        func endorsement() async throws -> String {
            let id = try await secretariatReview()
            try await sec.call("ITEM.FIRE", id, "open-endorsement")
            return id
        }

        func endorsed() async throws -> String {
            let id = try await endorsement()
            try await sec.call("ENDORSE", id, "almaty")
            return id
        }

        func activeProject() async throws -> String {
            let item = try await ivan.call("ITEM.CREATE", "thematic-project", "Matrix project", "GROUP", "sustainability-wg",
                                           "FIELD", "summary", "Summary", "FIELD", "budget", "1000")
            let id = try #require(item["id"]?.stringValue)
            try await ivan.call("ITEM.REVISE", id, "Proposal.\n")
            try await ivan.call("ITEM.FIRE", id, "submit")
            try await chen.call("REVIEW.VOTE", id, "APPROVE")
            try await vera.call("REVIEW.VOTE", id, "APPROVE")
            try await dilnoza.call("ITEM.FIRE", id, "recommend")
            try await sec.call("ITEM.FIRE", id, "approve")
            try await ivan.call("MILESTONE.ADD", id, "First report")
            return id
        }

        func make(_ fixture: Fixture) async throws -> String {
            switch fixture {
            case .none, .sharedDraft, .sharedReview: ""
            case .draft: try await draft()
            case .review: try await review()
            case .reviewWithQuorum: try await reviewWithQuorum()
            case .secretariatReview: try await secretariatReview()
            case .endorsement: try await endorsement()
            case .endorsed: try await endorsed()
            case .activeProject: try await activeProject()
            }
        }
    }

    /// The Eurasia section plus ivan (drafter), vera (reviewer), pat (no role) and zed (a user
    /// for the directory commands to act on).
    static func setUp(_ server: TestServer) async throws {
        try await server.withClient { admin in
            try await EurasiaSection.setUp(admin)
            try await admin.call("USER.ADD", "ivan", "Ivan Drafter")
            try await admin.call("USER.GRANT", "ivan", "drafter", "GROUP", "sustainability-wg")
            try await admin.call("USER.ADD", "vera", "Vera Reviewer")
            try await admin.call("USER.GRANT", "vera", "reviewer", "GROUP", "sustainability-wg")
            try await admin.call("USER.ADD", "pat", "Pat Nobody")
            try await admin.call("USER.ADD", "zed", "Zed Target")
        }
    }

    /// Runs `body` with the preparers' connections open.
    static func withPreparers<T: Sendable>(_ server: TestServer, _ body: @Sendable (Preparers) async throws -> T) async throws -> T {
        try await server.withClient(user: "ivan") { ivan in
            try await server.withClient(user: "chen") { chen in
                try await server.withClient(user: "vera") { vera in
                    try await server.withClient(user: "dilnoza") { dilnoza in
                        try await server.withClient(user: "sec") { sec in
                            try await body(Preparers(ivan: ivan, chen: chen, vera: vera, dilnoza: dilnoza, sec: sec))
                        }
                    }
                }
            }
        }
    }

    struct Prepared: Sendable {
        var targets: [String: String]
        var sharedDraft: String
        var sharedReview: String
    }

    /// Items for every row and role, prepared before anyone acts.
    static func prepare(_ server: TestServer) async throws -> Prepared {
        try await withPreparers(server) { p in
            let draft = try await p.draft()
            try await p.ivan.call("ITEM.REVISE", draft, "Second text.\n")
            let review = try await p.review()
            var targets: [String: String] = [:]
            for (r, row) in rows.enumerated() {
                for role in Role.allCases where role != .anonymous {
                    switch row.fixture {
                    case .none: break
                    case .sharedDraft: targets["\(r)/\(role)"] = draft
                    case .sharedReview: targets["\(r)/\(role)"] = review
                    default: targets["\(r)/\(role)"] = try await p.make(row.fixture)
                    }
                }
            }
            return Prepared(targets: targets, sharedDraft: draft, sharedReview: review)
        }
    }

    struct Column: Sendable {
        var letters: [Character] = []
        var replies: [String] = []
    }

    /// Runs every row as `role` on one connection (RESP3, so WATCH pushes never mix with replies).
    static func column(_ role: Role, _ server: TestServer, _ targets: [String: String]) async throws -> Column {
        @Sendable func run(_ c: DocketClient) async -> Column {
            var column = Column()
            for (r, row) in rows.enumerated() {
                let args = row.args(targets["\(r)/\(role)"] ?? "PP-0", role.rawValue)
                do {
                    _ = try await c.call(args)
                    column.letters.append("+")
                    column.replies.append("ok")
                } catch let e as ServerError {
                    column.letters.append(letter(e.code))
                    column.replies.append(e.line)
                } catch {
                    column.letters.append("?")
                    column.replies.append("\(error)")
                }
            }
            return column
        }
        if let user = role.user {
            return try await server.withClient(user: user, resp3: true) { c in await run(c) }
        }
        let c = try await DocketClient.connect(to: server.address)
        let column = await run(c)
        await c.close()
        return column
    }

    static func letter(_ code: String) -> Character {
        switch code {
        case "NOAUTH": "A"
        case "NOPERM": "P"
        case "DENIED": "D"
        case "NOTFOUND": "N"
        case "WRONGPASS": "W"
        case "INVALID": "I"
        case "CONFLICT": "C"
        default: "E"
        }
    }

    @Test("every command x every role answers as the table says")
    func matrix() async throws {
        try await TestServer.with { server in
            try await Self.setUp(server)
            let prepared = try await Self.prepare(server)
            let targets = prepared.targets
            var columns: [Role: Column] = [:]
            try await withThrowingTaskGroup(of: (Role, Column).self) { group in
                for role in Role.allCases {
                    group.addTask { (role, try await Self.column(role, server, targets)) }
                }
                for try await (role, column) in group { columns[role] = column }
            }
            var cases = 0, allowed = 0
            var refusals: [Character: Int] = [:]
            for (r, row) in Self.rows.enumerated() {
                let expected = Array(row.expected)
                try #require(expected.count == Role.allCases.count, "row \(row.name) has \(expected.count) entries")
                for (i, role) in Role.allCases.enumerated() {
                    let got = columns[role]?.letters[r] ?? "?"
                    #expect(got == expected[i], "\(row.name) as \(role) (\(role.user ?? "no AUTH")): expected \(expected[i]), got \(got): \(columns[role]?.replies[r] ?? "")")
                    cases += 1
                    if got == "+" { allowed += 1 } else { refusals[got, default: 0] += 1 }
                }
            }
            // Nothing refused left a trace: the draft shared by the read rows is as ivan left it.
            let draft = prepared.sharedDraft
            let history = try await server.withClient(user: "ivan") { c in try await c.call("ITEM.HISTORY", draft).arrayValue ?? [] }
            #expect(history.compactMap { $0["type"]?.stringValue } == ["created", "revision", "revision"])
            let summary = refusals.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            print("authorisation matrix: \(Self.rows.count) commands x \(Role.allCases.count) roles = \(cases) cases; \(allowed) allowed, refused "
                  + summary + " (A NOAUTH, D DENIED, N NOTFOUND, P NOPERM, W WRONGPASS)")
        }
    }

    /// Collects `user`'s WATCH pushes (RESP3) while `during` runs, until a push about `marker`
    /// arrives (the marker item's event is the last one written).
    static func watched(_ server: TestServer, as user: String, filter: [String], marker: String,
                        during: @Sendable () async throws -> Void) async throws -> [RESPValue] {
        try await server.withClient(user: user, resp3: true) { watcher in
            let reply = try await watcher.call(["WATCH"] + filter)
            #expect(reply.arrayValue?.first?.stringValue == "watch")
            try await during()
            // Until the marker's push, or 30 s (the stream ends when its task is cancelled).
            let events = await withTaskGroup(of: [RESPValue]?.self) { group in
                group.addTask {
                    var events: [RESPValue] = []
                    for await push in watcher.pushes {
                        guard let event = push.arrayValue?.last else { continue }
                        events.append(event)
                        if event["item"]?.stringValue == marker && event["comment"]?.stringValue == "marker" { break }
                    }
                    return events
                }
                group.addTask {
                    try? await Task.sleep(for: .seconds(30))
                    return nil
                }
                let first = await group.next() ?? nil
                group.cancelAll()
                return first
            }
            guard let events else {
                Issue.record("the marker's event never reached \(user)'s WATCH")
                return []
            }
            return events
        }
    }

    /// The events pushed to `client` until one satisfies `stop` or `timeout` passes.
    static func pushes(_ client: DocketClient, timeout: Duration, until stop: @escaping @Sendable (RESPValue) -> Bool) async -> [RESPValue] {
        let box = NIOLockedValueBox<[RESPValue]>([])
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await push in client.pushes {
                    guard let event = push.arrayValue?.last else { continue }
                    box.withLockedValue { $0.append(event) }
                    if stop(event) { break }
                }
            }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
        return box.withLockedValue { $0 }
    }

    @Test("a hidden draft leaks nowhere: GET, LIST and its filters, HISTORY, TEXT, DIFF, EXPLAIN, reports, EVENTS.READ, WATCH", arguments: ["pat", "rep-almaty", "omar"])
    func noLeak(user: String) async throws {
        try await TestServer.with { server in
            try await Self.setUp(server)
            let (draft, open) = try await Self.withPreparers(server) { p in
                let draft = try await p.draft()
                try await p.ivan.call("ITEM.REVISE", draft, "Second text.\n")
                return (draft, try await p.review())
            }
            let marker = try await server.withClient(user: "sec") { c in
                try #require(try await c.call("ITEM.CREATE", "membership-application", "Marker")["id"]?.stringValue)
            }
            // Events on the draft and on the open paper while an outsider watches everything, and the draft's own channel.
            let write: @Sendable () async throws -> Void = {
                try await server.withClient(user: "ivan") { ivan in
                    try await ivan.call("ITEM.COMMENT", draft, "classified remark")
                    try await ivan.call("ITEM.SET", draft, "summary", "classified summary")
                    try await ivan.call("ITEM.REVISE", draft, "Classified text.\n")
                    try await ivan.call("ITEM.COMMENT", open, "public remark")
                }
                _ = try await server.withClient(user: "sec") { c in try await c.call("ITEM.COMMENT", marker, "marker") }
            }
            let allEvents = try await Self.watched(server, as: user, filter: [], marker: marker, during: write)
            #expect(!allEvents.isEmpty)
            #expect(!allEvents.contains { $0["item"]?.stringValue == draft }, "WATCH pushed an event of the hidden draft to \(user)")
            #expect(allEvents.contains { $0["item"]?.stringValue == open && $0["comment"]?.stringValue == "public remark" })
            // WATCH ITEM on the draft itself: the secretariat, watching beside the outsider, gets
            // the new events; by the time it has, the outsider has been sent none.
            let (insiderSaw, draftChannel) = try await server.withClient(user: user, resp3: true) { outsider in
                try await server.withClient(user: "sec", resp3: true) { insider in
                    _ = try await outsider.call("WATCH", "ITEM", draft)
                    _ = try await insider.call("WATCH", "ITEM", draft)
                    _ = try await server.withClient(user: "ivan") { ivan in try await ivan.call("ITEM.COMMENT", draft, "another classified note") }
                    _ = try await server.withClient(user: "sec") { c in try await c.call("ITEM.COMMENT", draft, "secretariat note") }
                    let saw = await Self.pushes(insider, timeout: .seconds(30)) { $0["comment"]?.stringValue == "secretariat note" }
                    let leaked = await Self.pushes(outsider, timeout: .milliseconds(500)) { _ in false }
                    return (saw.filter { $0["item"]?.stringValue == draft }.count, leaked.filter { $0["item"]?.stringValue == draft })
                }
            }
            #expect(insiderSaw >= 2, "the secretariat's WATCH ITEM \(draft) got \(insiderSaw) events")
            #expect(draftChannel.isEmpty, "WATCH ITEM \(draft) pushed \(draftChannel.count) events to \(user)")
            // Wait until the sequencer has numbered everything, then read it back as the outsider.
            try await VisibilityTests.waitForSequencedEvents(server, count: 12)
            try await server.withClient(user: user) { c in
                let notFound = "NOTFOUND item \(draft) not found"
                for command in [["ITEM.GET", draft], ["ITEM.HISTORY", draft], ["ITEM.TEXT", draft], ["ITEM.TEXT", draft, "REV", "2"],
                                ["ITEM.DIFF", draft, "1", "2"], ["ITEM.EXPLAIN", draft, "submit"], ["REVIEW.LIST", draft],
                                ["ENDORSE.LIST", draft], ["MILESTONE.LIST", draft], ["ITEM.COMMENT", draft, "hello?"],
                                ["ITEM.FIRE", draft, "withdraw", "KEY", "probe"], ["REVIEW.VOTE", draft, "REJECT"]] {
                    let error = await VisibilityTests.failure(c, command)
                    #expect(error?.line == notFound, "\(command) answered \(error?.line ?? "a reply") to \(user)")
                }
                // Lists and their filters: the draft is in none of them.
                for filter in [[], ["STATE", "drafting"], ["GROUP", "sustainability-wg"], ["THEME", "sustainability"], ["WORKFLOW", "policy-paper"],
                               ["WAITING", "ivan"], ["OVERDUE"], ["LIMIT", "10000"]] {
                    let items = try await c.call(["ITEM.LIST"] + filter).arrayValue ?? []
                    #expect(!items.contains { $0["id"]?.stringValue == draft }, "ITEM.LIST \(filter) showed the draft to \(user)")
                }
                for report in [["REPORT.STATUS"], ["REPORT.STATUS", "ASOF", "2100-01-01"], ["REPORT.STATUS", "WORKFLOW", "policy-paper"]] {
                    let rows = try await c.call(report).arrayValue ?? []
                    #expect(!rows.contains { $0["state"]?.stringValue == "drafting" }, "\(report) counted the draft for \(user)")
                }
                for report in [["REPORT.WAITING"], ["REPORT.WAITING", "USER", "ivan"]] {
                    let rows = try await c.call(report).arrayValue ?? []
                    #expect(!rows.contains { $0["item"]?.stringValue == draft }, "\(report) showed the draft to \(user)")
                }
                let cycle = try await c.call("REPORT.CYCLE").arrayValue ?? []
                #expect(!cycle.contains { $0["state"]?.stringValue == "drafting" }, "REPORT.CYCLE showed draft times to \(user)")
                let events = try await c.call("EVENTS.READ", "COUNT", "10000").arrayValue ?? []
                #expect(!events.isEmpty)
                #expect(!events.contains { $0["item"]?.stringValue == draft }, "EVENTS.READ showed the draft's events to \(user)")
                #expect(events.contains { $0["item"]?.stringValue == open })
                // Nothing in any reply mentions the draft's secret text.
                var everything = ""
                for command in [["ITEM.LIST"], ["EVENTS.READ", "COUNT", "10000"], ["REPORT.WAITING"], ["REPORT.STATUS"]] {
                    everything += "\(try await c.call(command))"
                }
                #expect(!everything.lowercased().contains("classified"), "a reply to \(user) carried the draft's text")
            }
            print("no leak to \(user): 12 item commands NOTFOUND, 8 ITEM.LIST filters, 6 reports, EVENTS.READ and 2 WATCH subscriptions (\(allEvents.count) pushes) without the draft")
        }
    }
}
