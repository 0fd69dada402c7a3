import DocketClient
import DocketTestSupport
import DocketWire
import Foundation
import NIOConcurrencyHelpers
import Testing

/// 32 clients hammer a few items at once through the admin server. Every acknowledged write
/// must be in the item's history exactly once at the version it was answered with (no lost
/// update), versions must be gapless, a reviewer has at most one vote per round, and a
/// quorum is only ever met by votes of the round the transition closes.
@Suite("Concurrency: 32 clients on a few items", .serialized, .timeLimit(.minutes(10)))
struct ConcurrencyTests {
    static let clients = 32

    /// SplitMix64, so each client's choices are reproducible (the interleaving is not).
    struct Generator: RandomNumberGenerator {
        private var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// A client of `server` authenticated as `user`, closed after `body`. Replies may wait on
    /// row locks behind 31 other clients on a loaded machine: a generous reply timeout.
    static func client<T: Sendable>(_ server: TestServer, _ user: String, token: String? = nil,
                                    _ body: @Sendable (DocketClient) async throws -> T) async throws -> T {
        var secret = token ?? ""
        if token == nil { secret = try await server.store.createToken(for: user) }
        let client = try await DocketClient.connect(to: server.address, timeout: .seconds(120))
        do {
            try await client.auth(user: user, token: secret)
            let result = try await body(client)
            await client.close()
            return result
        } catch {
            await client.close()
            throw error
        }
    }

    /// A reply or the server's error; anything else (a dropped connection) fails the test.
    static func attempt(_ c: DocketClient, _ args: [String]) async -> Result<RESPValue, ServerError> {
        do {
            return .success(try await c.call(args))
        } catch let error as ServerError {
            return .failure(error)
        } catch {
            Issue.record("\(args.prefix(3)) failed with \(error)")
            return .failure(ServerError(code: "BROKEN", message: "\(error)"))
        }
    }

    /// An acknowledged write: what the client was told.
    struct Ack: Sendable {
        var item: String
        var version: Int
        var type: String
        var actor: String
        /// The field value set, or the transition fired.
        var detail: String
    }

    /// Tallies of what the clients were answered.
    struct Counts: Sendable {
        var commands = 0
        var byCode: [String: Int] = [:]
        mutating func add(_ code: String) {
            commands += 1
            byCode[code, default: 0] += 1
        }
        mutating func merge(_ other: Counts) {
            commands += other.commands
            for (k, v) in other.byCode { byCode[k, default: 0] += v }
        }
        var summary: String { byCode.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") }
    }

    /// Adds `w01`...`wNN` (drafter and chair of sustainability-wg) and `v01`...`vNN` (reviewers).
    static func addPeople(_ server: TestServer, writers: Int, reviewers: Int) async throws {
        try await server.withClient { admin in
            try await EurasiaSection.setUp(admin)
            for n in 1...max(writers, 1) where writers > 0 {
                let handle = String(format: "w%02d", n)
                try await admin.call("USER.ADD", handle, "Writer \(n)")
                try await admin.call("USER.GRANT", handle, "drafter", "GROUP", "sustainability-wg")
                try await admin.call("USER.GRANT", handle, "chair", "GROUP", "sustainability-wg")
            }
            for n in 1...max(reviewers, 1) where reviewers > 0 {
                let handle = String(format: "v%02d", n)
                try await admin.call("USER.ADD", handle, "Reviewer \(n)")
                try await admin.call("USER.GRANT", handle, "reviewer", "GROUP", "sustainability-wg")
            }
        }
    }

    /// Creates `count` papers by ana, each with a summary and a revision (so submit is allowed).
    static func papers(_ server: TestServer, count: Int, submitted: Bool) async throws -> [String] {
        try await server.withClient(user: "ana") { ana in
            var ids: [String] = []
            for n in 0..<count {
                let item = try await ana.call("ITEM.CREATE", "policy-paper", "Contended paper \(n)", "THEME", "sustainability",
                                              "GROUP", "sustainability-wg", "FIELD", "summary", "start")
                let id = try #require(item["id"]?.stringValue)
                try await ana.call("ITEM.REVISE", id, "Text \(n).\n")
                if submitted { try await ana.call("ITEM.FIRE", id, "submit") }
                ids.append(id)
            }
            return ids
        }
    }

    /// Checks an item's history: versions 1...n gapless, states chained, the row's version n.
    static func history(_ server: TestServer, _ id: String) async throws -> [RESPValue] {
        try await server.withClient { admin in
            let events = try await admin.call("ITEM.HISTORY", id).arrayValue ?? []
            #expect(events.compactMap { $0["version"]?.intValue } == (0..<events.count).map { $0 + 1 }, "\(id): versions are not 1...\(events.count)")
            var state = ""
            for e in events where e["type"]?.stringValue == "transition" || e["type"]?.stringValue == "created" {
                if e["type"]?.stringValue == "transition" {
                    #expect(e["from"]?.stringValue == state, "\(id) v\(e["version"]?.intValue ?? 0): from \(e["from"]?.stringValue ?? "?") but the item was in \(state)")
                }
                state = e["to"]?.stringValue ?? ""
            }
            let item = try await admin.call("ITEM.GET", id)
            #expect(item["version"]?.intValue == events.count, "\(id): row at version \(item["version"]?.intValue ?? -1), history has \(events.count)")
            #expect(item["state"]?.stringValue == state, "\(id): row in \(item["state"]?.stringValue ?? "?"), history ends in \(state)")
            return events
        }
    }

    @Test("conflicting IFVERSION sets and fires: every acknowledged write is in history once, at its version")
    func conflictingWrites() async throws {
        try await TestServer.with { server in
            try await Self.addPeople(server, writers: 16, reviewers: 0)
            let items = try await Self.papers(server, count: 4, submitted: false)
            let base: [String: Int] = try await server.withClient { admin in
                var out: [String: Int] = [:]
                for id in items { out[id] = try await admin.call("ITEM.GET", id)["version"]?.intValue ?? -1 }
                return out
            }
            let steps = 45
            let results = try await withThrowingTaskGroup(of: ([Ack], Counts).self) { group in
                for n in 0..<Self.clients {
                    let user = String(format: "w%02d", n % 16 + 1)
                    group.addTask {
                        try await Self.client(server, user) { c in
                            var rng = Generator(seed: UInt64(1_000 + n))
                            var acks: [Ack] = []
                            var counts = Counts()
                            for step in 0..<steps {
                                let id = items.randomElement(using: &rng)!
                                let roll = Int.random(in: 0..<10, using: &rng)
                                var args: [String]
                                if roll < 7 {
                                    // Read, then write against the version read: races lose with CONFLICT.
                                    guard case let .success(item) = await Self.attempt(c, ["ITEM.GET", id]),
                                          let version = item["version"]?.intValue, let state = item["state"]?.stringValue else { continue }
                                    if roll < 4 {
                                        args = ["ITEM.SET", id, "summary", "\(user)#\(n)-\(step)", "IFVERSION", String(version)]
                                    } else {
                                        args = ["ITEM.FIRE", id, state == "drafting" ? "submit" : "send-back", "IFVERSION", String(version)]
                                    }
                                } else if roll < 9 {
                                    // Blind fires: whoever comes second finds the state moved on.
                                    args = ["ITEM.FIRE", id, Bool.random(using: &rng) ? "submit" : "send-back"]
                                } else {
                                    args = ["ITEM.COMMENT", id, "note \(n)-\(step)"]
                                }
                                switch await Self.attempt(c, args) {
                                case let .success(reply):
                                    counts.add("OK")
                                    let version = reply["version"]?.intValue ?? -1
                                    switch args[0] {
                                    case "ITEM.SET": acks.append(Ack(item: id, version: version, type: "field", actor: user, detail: args[3]))
                                    case "ITEM.FIRE": acks.append(Ack(item: id, version: version, type: "transition", actor: user, detail: args[2]))
                                    default: acks.append(Ack(item: id, version: version, type: "comment", actor: user, detail: args[2]))
                                    }
                                case let .failure(error):
                                    counts.add(error.code)
                                    if !["CONFLICT", "DENIED"].contains(error.code) { Issue.record("\(args): \(error.line)") }
                                    if error.code == "CONFLICT" { #expect(error.message.contains("is at version")) }
                                }
                            }
                            return (acks, counts)
                        }
                    }
                }
                var all: ([Ack], Counts) = ([], Counts())
                for try await (acks, counts) in group {
                    all.0 += acks
                    all.1.merge(counts)
                }
                return all
            }
            let (acks, counts) = results
            var fires = 0
            for id in items {
                let events = try await Self.history(server, id)
                let mine = acks.filter { $0.item == id }
                let start = base[id] ?? 0
                // Every event after the set-up was acknowledged to exactly one client, at its version.
                #expect(events.count == start + mine.count, "\(id): \(events.count) events, \(start) + \(mine.count) acknowledged")
                #expect(Set(mine.map(\.version)).count == mine.count, "\(id): two clients were told the same version")
                for ack in mine {
                    guard ack.version >= 1, ack.version <= events.count else {
                        Issue.record("\(id): acknowledged version \(ack.version) is not in history")
                        continue
                    }
                    let e = events[ack.version - 1]
                    #expect(e["type"]?.stringValue == ack.type && e["actor"]?.stringValue == ack.actor, "\(id) v\(ack.version)")
                    switch ack.type {
                    case "field": #expect(e["data"]?["value"]?.stringValue == ack.detail, "\(id) v\(ack.version): value")
                    case "transition": #expect(e["transition"]?.stringValue == ack.detail)
                    default: #expect(e["comment"]?.stringValue == ack.detail)
                    }
                }
                fires += mine.filter { $0.type == "transition" }.count
                // The field holds the last acknowledged value.
                if let last = mine.filter({ $0.type == "field" }).max(by: { $0.version < $1.version }) {
                    let item = try await server.withClient { admin in try await admin.call("ITEM.GET", id) }
                    #expect(item["fields"]?["summary"]?.stringValue == last.detail, "\(id): lost update of summary")
                }
            }
            let audit = try await server.withClient { admin in try await admin.call("AUDIT.VERIFY") }
            #expect(audit["ok"]?.boolValue == true, "\(audit)")
            print("concurrency (writes): \(Self.clients) clients, \(counts.commands) writes on \(items.count) items: \(counts.summary); "
                  + "\(acks.count) acknowledged (\(fires) fires), all in history at their versions; audit ok over \(audit["events"]?.intValue ?? 0) events")
            #expect(counts.commands > 1_000)
            #expect((counts.byCode["CONFLICT"] ?? 0) > 0, "the run produced no conflicts: it tested nothing")
            #expect(fires > 0)
        }
    }

    /// Replays one item's history: each vote belongs to the round it was cast in, and each
    /// `accept` was backed by the current round's votes (latest per reviewer, none stale).
    struct ReviewReplay {
        var accepts = 0
        var votes = 0
        var staleAtAccept = 0
        var rounds = 1
        var revisions = 0
        var current: [String: (verdict: String, revision: Int)] = [:]

        mutating func replay(_ id: String, _ events: [RESPValue]) {
            var state = ""
            for e in events {
                let type = e["type"]?.stringValue ?? ""
                switch type {
                case "created":
                    state = e["to"]?.stringValue ?? ""
                case "transition":
                    if e["transition"]?.stringValue == "accept" {
                        accepts += 1
                        let counted = current.values.filter { $0.revision >= revisions }
                        staleAtAccept += current.count - counted.count
                        let approvals = counted.filter { $0.verdict == "approve" }.count
                        let rejections = counted.filter { $0.verdict == "reject" }.count
                        #expect(approvals >= 2 && rejections == 0,
                                "\(id) v\(e["version"]?.intValue ?? 0): accepted with \(approvals) approvals and \(rejections) rejections in round \(rounds)")
                    }
                    state = e["to"]?.stringValue ?? ""
                    rounds += 1
                    current = [:]
                case "revision":
                    revisions = Int(e["data"]?["revision"]?.stringValue ?? "") ?? revisions
                case "vote":
                    votes += 1
                    #expect(state == "peer-review", "\(id) v\(e["version"]?.intValue ?? 0): a vote in \(state)")
                    #expect(e["data"]?["round"]?.stringValue == String(rounds),
                            "\(id) v\(e["version"]?.intValue ?? 0): vote recorded for round \(e["data"]?["round"]?.stringValue ?? "?"), the item is in round \(rounds)")
                    current[e["actor"]?.stringValue ?? "?"] = (e["data"]?["verdict"]?.stringValue ?? "?", revisions)
                default:
                    break
                }
            }
        }
    }

    @Test("votes, accepts, send-backs and revisions at once: one vote per reviewer per round, quorum only from the current round")
    func votesAndQuorum() async throws {
        try await TestServer.with { server in
            try await Self.addPeople(server, writers: 0, reviewers: 24)
            let items = try await Self.papers(server, count: 2, submitted: true)
            enum Role: Sendable { case reviewer(String), chair, secretariat, author, observer(String) }
            var roles: [Role] = (1...24).map { .reviewer(String(format: "v%02d", $0)) }
            roles += [.chair, .secretariat, .author]
            roles += ["bruno", "chen", "bruno", "chen", "sec"].map { .observer($0) }
            #expect(roles.count == Self.clients)
            let plan = roles
            // Reviewers that have cast all their votes: the chair keeps trying to accept until
            // they all have, so that some round reaches its quorum while it tries. (With a fixed
            // 40 attempts it could finish before any round did: no accept at all, once in CI.)
            let reviewersDone = NIOLockedValueBox(0)
            let results = try await withThrowingTaskGroup(of: (Counts, [String: Int], Int).self) { group in
                for (n, role) in plan.enumerated() {
                    let user: String
                    switch role {
                    case let .reviewer(u), let .observer(u): user = u
                    case .chair: user = "dilnoza"
                    case .secretariat: user = "sec"
                    case .author: user = "ana"
                    }
                    group.addTask {
                        try await Self.client(server, user) { c in
                            var rng = Generator(seed: UInt64(7_000 + n))
                            var counts = Counts()
                            var votes: [String: Int] = [:]
                            var accepts = 0
                            var turn = 0
                            while true {
                                if case .chair = role {
                                    if turn >= 40, reviewersDone.withLockedValue({ $0 }) == 24 { break }
                                } else if turn >= 40 {
                                    break
                                }
                                turn += 1
                                let id = items.randomElement(using: &rng)!
                                switch role {
                                case .reviewer:
                                    let roll = Int.random(in: 0..<20, using: &rng)
                                    let verdict = roll < 16 ? "approve" : roll < 18 ? "changes" : "reject"
                                    switch await Self.attempt(c, ["REVIEW.VOTE", id, verdict]) {
                                    case let .success(reply):
                                        counts.add("OK")
                                        votes[id, default: 0] += 1
                                        let total = ["approve", "changes", "reject", "stale"].compactMap { reply[$0]?.intValue }.reduce(0, +)
                                        #expect(total >= 1 && total <= 24, "vote counts \(reply)")
                                    case let .failure(e):
                                        counts.add(e.code)
                                        #expect(e.code == "DENIED", "\(e.line)")
                                    }
                                case .chair:
                                    switch await Self.attempt(c, ["ITEM.FIRE", id, "accept"]) {
                                    case .success: counts.add("OK"); accepts += 1
                                    case let .failure(e):
                                        counts.add(e.code); #expect(e.code == "DENIED", "\(e.line)")
                                        try await Task.sleep(for: .milliseconds(5))
                                    }
                                case .secretariat, .author:
                                    guard case let .success(item) = await Self.attempt(c, ["ITEM.GET", id]) else { continue }
                                    let state = item["state"]?.stringValue ?? ""
                                    var args: [String]?
                                    if case .secretariat = role {
                                        if state == "secretariat-review" || (state == "peer-review" && Int.random(in: 0..<8, using: &rng) == 0) {
                                            args = ["ITEM.FIRE", id, "send-back"]
                                        }
                                    } else if state == "drafting" {
                                        args = ["ITEM.FIRE", id, "submit"]
                                    } else if state == "peer-review", Int.random(in: 0..<6, using: &rng) == 0 {
                                        args = ["ITEM.REVISE", id, "Text revised \(Int.random(in: 0...1_000_000, using: &rng)).\n"]
                                    }
                                    guard let args else {
                                        try await Task.sleep(for: .milliseconds(5))
                                        continue
                                    }
                                    switch await Self.attempt(c, args) {
                                    case .success: counts.add("OK")
                                    case let .failure(e): counts.add(e.code); #expect(e.code == "DENIED", "\(args): \(e.line)")
                                    }
                                case .observer:
                                    switch await Self.attempt(c, ["REVIEW.LIST", id]) {
                                    case let .success(list):
                                        counts.add("OK")
                                        let reviewers = (list.arrayValue ?? []).compactMap { $0["reviewer"]?.stringValue }
                                        #expect(Set(reviewers).count == reviewers.count, "\(id): a reviewer listed twice: \(reviewers)")
                                    case let .failure(e):
                                        counts.add(e.code)
                                        Issue.record("REVIEW.LIST \(id): \(e.line)")
                                    }
                                }
                            }
                            if case .reviewer = role { reviewersDone.withLockedValue { $0 += 1 } }
                            return (counts, votes, accepts)
                        }
                    }
                }
                var counts = Counts()
                var votes: [String: Int] = [:]
                var accepts = 0
                for try await (c, v, a) in group {
                    counts.merge(c)
                    for (k, n) in v { votes[k, default: 0] += n }
                    accepts += a
                }
                return (counts, votes, accepts)
            }
            let (counts, acknowledgedVotes, acknowledgedAccepts) = results
            var replayed = ReviewReplay()
            var totals = ReviewReplay()
            for id in items {
                let events = try await Self.history(server, id)
                replayed = ReviewReplay()
                replayed.replay(id, events)
                #expect(replayed.votes == acknowledgedVotes[id] ?? 0, "\(id): \(replayed.votes) vote events, \(acknowledgedVotes[id] ?? 0) votes acknowledged")
                // The row's votes are the replay's: nothing lost, nothing doubled.
                let expected = replayed.current.mapValues(\.verdict)
                try await server.withClient { admin in
                    let item = try await admin.call("ITEM.GET", id)
                    let list = try await admin.call("REVIEW.LIST", id).arrayValue ?? []
                    let rowVotes = Dictionary(list.compactMap { v -> (String, String)? in
                        guard let r = v["reviewer"]?.stringValue, let verdict = v["vote"]?.stringValue else { return nil }
                        return (r, verdict)
                    }, uniquingKeysWith: { a, _ in a })
                    if item["state"]?.stringValue == "peer-review" {
                        #expect(rowVotes == expected, "\(id): the row's votes differ from the replay of its events")
                    } else {
                        #expect(rowVotes.isEmpty, "\(id): votes outside review")
                    }
                }
                totals.accepts += replayed.accepts
                totals.votes += replayed.votes
                totals.staleAtAccept += replayed.staleAtAccept
                totals.rounds += replayed.rounds
                totals.revisions += replayed.revisions
            }
            #expect(totals.accepts == acknowledgedAccepts)
            let audit = try await server.withClient { admin in try await admin.call("AUDIT.VERIFY") }
            #expect(audit["ok"]?.boolValue == true, "\(audit)")
            print("concurrency (votes): \(Self.clients) clients, \(counts.commands) commands on \(items.count) items: \(counts.summary); "
                  + "\(totals.votes) votes in \(totals.rounds - 1) rounds, \(totals.accepts) accepts each backed by its own round "
                  + "(\(totals.staleAtAccept) stale votes left out), \(totals.revisions) revisions; audit ok")
            // Only that the load exercised voting: how many votes land depends on how long the
            // random interleaving keeps items in review (200 to 526 in recent runs).
            #expect(totals.votes >= 100, "the load hardly voted: \(totals.votes) votes")
            #expect(totals.accepts > 0, "no accept happened: the quorum check was never exercised")
        }
    }

    @Test("the same KEY from two connections at the same moment: one item, one event, the same answer to both")
    func duplicateKeys() async throws {
        try await TestServer.with { server in
            try await Self.addPeople(server, writers: 16, reviewers: 0)
            let rounds = 8
            let results = try await withThrowingTaskGroup(of: (Int, Int, Int).self) { group in
                for pair in 0..<(Self.clients / 2) {
                    let user = String(format: "w%02d", pair + 1)
                    group.addTask {
                        let token = try await server.store.createToken(for: user)
                        return try await Self.client(server, user, token: token) { a in
                            try await Self.client(server, user, token: token) { b in
                                var same = 0, differed = 0, fires = 0
                                for r in 0..<rounds {
                                    let create = ["ITEM.CREATE", "policy-paper", "Paper \(user) \(r)", "GROUP", "sustainability-wg",
                                                  "FIELD", "summary", "s", "KEY", "create-\(r)"]
                                    async let first = Self.attempt(a, create)
                                    async let second = Self.attempt(b, create)
                                    let (x, y) = await (first, second)
                                    guard case let .success(one) = x, case let .success(two) = y else {
                                        Issue.record("\(user) create \(r): \(x) / \(y)")
                                        continue
                                    }
                                    #expect(one["id"] == two["id"], "\(user) create \(r): two items \(one["id"]?.stringValue ?? "?") and \(two["id"]?.stringValue ?? "?")")
                                    guard let id = one["id"]?.stringValue else { continue }
                                    _ = await Self.attempt(a, ["ITEM.REVISE", id, "Body.\n"])
                                    // The same keyed fire twice at once: one transition, both told about it.
                                    let fire = ["ITEM.FIRE", id, "submit", "KEY", "submit-\(r)"]
                                    async let f1 = Self.attempt(a, fire)
                                    async let f2 = Self.attempt(b, fire)
                                    let (p, q) = await (f1, f2)
                                    if case let .success(e1) = p, case let .success(e2) = q, e1["hash"] == e2["hash"] {
                                        same += 1
                                    } else {
                                        differed += 1
                                        Issue.record("\(user) fire \(id) submit KEY submit-\(r): \(p) / \(q)")
                                    }
                                    fires += 1
                                }
                                return (same, differed, fires)
                            }
                        }
                    }
                }
                var totals = (0, 0, 0)
                for try await (s, d, f) in group { totals = (totals.0 + s, totals.1 + d, totals.2 + f) }
                return totals
            }
            let (items, transitions): (Int, Int) = try await server.withClient { admin in
                let list = try await admin.call("ITEM.LIST", "LIMIT", "10000").arrayValue ?? []
                var transitions = 0
                for item in list {
                    let id = item["id"]?.stringValue ?? ""
                    let events = try await admin.call("ITEM.HISTORY", id).arrayValue ?? []
                    let fired = events.filter { $0["type"]?.stringValue == "transition" }.count
                    #expect(fired <= 1, "\(id): submitted \(fired) times")
                    transitions += fired
                }
                return (list.count, transitions)
            }
            #expect(items == Self.clients / 2 * rounds, "\(items) items from \(Self.clients / 2 * rounds) keyed creates sent twice each")
            #expect(transitions == results.2)
            print("concurrency (keys): \(Self.clients) connections sent \(Self.clients / 2 * rounds) keyed creates and \(results.2) keyed fires twice each "
                  + "at the same moment: \(items) items, \(transitions) transitions; both answers identical for \(results.0) fires, differing for \(results.1)")
        }
    }
}
