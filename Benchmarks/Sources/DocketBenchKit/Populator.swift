import DocketClient
import DocketWire
import Foundation

/// Loads the population through the server: a working group, bench users and member
/// governments, thematic projects ready to `submit` (summary, budget and a proposal revision),
/// and policy papers open for endorsement. Requests are pipelined over several connections.
public struct Populator: Sendable {
    public var address: ServerAddress
    public var admin: Credentials
    public var projects: Int
    public var papers: Int
    public var connections: Int
    public var batch: Int
    public var log: @Sendable (String) -> Void

    public static let group = "bench"
    public static let memberCount = 20

    public init(address: ServerAddress, admin: Credentials, projects: Int, papers: Int, connections: Int = 8, batch: Int = 64,
                log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.address = address
        self.admin = admin
        self.projects = projects
        self.papers = papers
        self.connections = connections
        self.batch = batch
        self.log = log
    }

    /// Creates what is missing and returns the population (`existing` is what an earlier
    /// populate recorded; its items are kept when the server still has them).
    public func run(existing: Population?) async throws -> Population {
        let adminClient = try await Runner.connect(address, admin)
        defer { Task { await adminClient.close() } }

        // Directory: group, members, users, tokens. "already exists" is fine.
        var setup: [[String]] = [["GROUP.ADD", Self.group, "Benchmark working group", "THEME", "sustainability"]]
        let members = (1...Self.memberCount).map { "bench-member-\($0)" }
        for m in members { setup.append(["MEMBER.ADD", m, "Bench member \(m.split(separator: "-").last!)", "KIND", "city"]) }
        setup.append(["USER.ADD", "bench-secretariat", "Bench secretariat", "ROLE", "secretariat"])
        setup.append(["USER.ADD", "bench-chair", "Bench chair"])
        setup.append(["USER.GRANT", "bench-chair", "chair", "GROUP", Self.group])
        for r in 1...2 {
            setup.append(["USER.ADD", "bench-reviewer-\(r)", "Bench reviewer \(r)"])
            setup.append(["USER.GRANT", "bench-reviewer-\(r)", "reviewer", "GROUP", Self.group])
        }
        for (command, reply) in zip(setup, try await adminClient.pipeline(setup)) {
            if case .error(let line) = reply, !line.contains("already") {
                throw BenchError("\(command.joined(separator: " ")): \(line)")
            }
        }
        func token(_ handle: String) async throws -> Credentials {
            guard let t = try await adminClient.call("TOKEN.CREATE", handle).stringValue else { throw BenchError("TOKEN.CREATE \(handle): no token") }
            return Credentials(user: handle, token: t)
        }
        let secretariat = try await token("bench-secretariat")
        let chair = try await token("bench-chair")
        let reviewers = [try await token("bench-reviewer-1"), try await token("bench-reviewer-2")]

        // Keep the earlier items if the server still has them (same database).
        var ids = ItemIDs(prefix: "TP")
        var paperIDs: [String] = []
        if let existing, existing.projects.count > 0 {
            let last = existing.projects.id(at: existing.projects.count - 1)
            if case .error = try await adminClient.send(["ITEM.GET", last]) {
                log("the earlier population is gone (\(last) not found): starting afresh")
            } else {
                ids = existing.projects
                paperIDs = existing.papers
            }
        }

        let missing = max(0, projects - ids.count)
        if missing > 0 {
            log("creating \(missing) thematic projects over \(connections) connections")
            let numbers = try await createProjects(missing, as: secretariat)
            ids = ids.adding(numbers)
        }
        let missingPapers = max(0, papers - paperIDs.count)
        if missingPapers > 0 {
            log("creating \(missingPapers) policy papers open for endorsement")
            paperIDs += try await createPapers(missingPapers, secretariat: secretariat, chair: chair, reviewers: reviewers)
        }
        return Population(group: Self.group, secretariat: secretariat, chair: chair, reviewers: reviewers,
                          members: members, projects: ids, papers: paperIDs)
    }

    /// `ITEM.CREATE` then `ITEM.REVISE`, a pipelined batch at a time on each connection.
    func createProjects(_ count: Int, as user: Credentials) async throws -> [Int] {
        let clients = try await Runner.connectAll(address, count: max(1, min(connections, count)), credentials: { _ in user })
        defer { Task { for c in clients { await c.close() } } }
        let started = Date()
        let progress = Progress(total: count, log: log)
        let (batch, n) = (self.batch, clients.count)
        let numbers = try await withThrowingTaskGroup(of: [Int].self) { group in
            for (w, client) in clients.enumerated() {
                let share = count / n + (w < count % n ? 1 : 0)
                group.addTask {
                    var made: [Int] = []
                    var left = share
                    while left > 0 {
                        let k = min(batch, left)
                        let creates = (0..<k).map { i in
                            ["ITEM.CREATE", FireCycle.workflow, "Bench project \(w)-\(share - left + i)", "GROUP", Populator.group,
                             "THEME", "sustainability", "FIELD", "summary", "A project for the load tool", "FIELD", "budget", "25000"]
                        }
                        let created = try await client.pipeline(creates)
                        var ids: [String] = []
                        for reply in created {
                            guard let id = reply["id"]?.stringValue else { throw BenchError("ITEM.CREATE: \(reply)") }
                            ids.append(id)
                        }
                        let revised = try await client.pipeline(ids.map { ["ITEM.REVISE", $0, "Proposal for \($0).", "NOTE", "first draft"] })
                        for reply in revised { if case .error(let line) = reply { throw BenchError("ITEM.REVISE: \(line)") } }
                        made += ids.compactMap { Int($0.split(separator: "-").last ?? "") }
                        left -= k
                        progress.add(k)
                    }
                    return made
                }
            }
            var all: [Int] = []
            for try await part in group { all += part }
            return all
        }
        let seconds = Date().timeIntervalSince(started)
        log("created \(count) projects in \(String(format: "%.1f", seconds)) s (\(String(format: "%.0f", Double(count) / max(seconds, 0.001))) items/s, 2 commands each)")
        return numbers
    }

    /// Policy papers taken through drafting, peer review and secretariat review to endorsement.
    func createPapers(_ count: Int, secretariat: Credentials, chair: Credentials, reviewers: [Credentials]) async throws -> [String] {
        let s = try await Runner.connect(address, secretariat)
        let c = try await Runner.connect(address, chair)
        let r = try await Runner.connectAll(address, count: reviewers.count) { reviewers[$0] }
        defer { Task { for x in [s, c] + r { await x.close() } } }
        var made: [String] = []
        var left = count
        func check(_ replies: [RESPValue], _ what: String) throws {
            for reply in replies { if case .error(let line) = reply { throw BenchError("\(what): \(line)") } }
        }
        while left > 0 {
            let k = min(batch, left)
            let created = try await s.pipeline((0..<k).map { i in
                ["ITEM.CREATE", "policy-paper", "Bench paper \(made.count + i + 1)", "GROUP", Populator.group, "THEME", "sustainability",
                 "FIELD", "summary", "A paper for the load tool"]
            })
            var ids: [String] = []
            for reply in created {
                guard let id = reply["id"]?.stringValue else { throw BenchError("ITEM.CREATE policy-paper: \(reply)") }
                ids.append(id)
            }
            try check(try await s.pipeline(ids.map { ["ITEM.REVISE", $0, "Position paper \($0)."] }), "ITEM.REVISE")
            try check(try await s.pipeline(ids.map { ["ITEM.FIRE", $0, "submit"] }), "submit")
            for reviewer in r { try check(try await reviewer.pipeline(ids.map { ["REVIEW.VOTE", $0, "APPROVE"] }), "REVIEW.VOTE") }
            try check(try await c.pipeline(ids.map { ["ITEM.FIRE", $0, "accept"] }), "accept")
            try check(try await s.pipeline(ids.map { ["ITEM.FIRE", $0, "open-endorsement"] }), "open-endorsement")
            made += ids
            left -= k
        }
        return made
    }
}

/// Logs every tenth of the way.
final class Progress: @unchecked Sendable {
    let total: Int
    let log: @Sendable (String) -> Void
    private let lock = NSLock()
    private var done = 0
    private var nextMark = 1

    init(total: Int, log: @escaping @Sendable (String) -> Void) {
        self.total = total
        self.log = log
    }

    func add(_ n: Int) {
        let message: String? = lock.withLock {
            done += n
            guard total >= 1000, done * 10 >= nextMark * total else { return nil }
            while done * 10 >= nextMark * total { nextMark += 1 }
            return "  \(done) of \(total)"
        }
        if let message { log(message) }
    }
}
