import DocketClient
import DocketStore
import DocketTestSupport
import DocketWire
import Foundation
import Logging
import Testing

/// PostgreSQL goes away for several seconds under a load of keyed fires: commands answer
/// `-UNAVAILABLE` within `--db-timeout` (no hang, no crash), the server recovers by itself
/// within seconds once PostgreSQL is back, retries with the same keys give one event each, and
/// a watcher that resumes with EVENTS.READ misses nothing.
///
/// Each test runs its own PostgreSQL cluster (the project's embedded launcher, in a scratch
/// directory), never the shared test cluster, since it stops it. Two kinds of outage: a
/// stopped server (`pg_ctl stop -m fast`: connections are cut, new ones refused) and a frozen
/// one (SIGSTOP: connections stay open and nothing answers). `DOCKET_OUTAGE_SECONDS` sets how
/// long PostgreSQL stays away (6 by default; keep it above --db-timeout + 3 s, or a reply
/// that waited for the whole outage would pass for one that gave up in time).
@Suite("Database outage: PostgreSQL stopped under load", .serialized, .timeLimit(.minutes(10)))
struct DatabaseOutageTests {
    static var outage: Duration { .seconds(ProcessInfo.processInfo.environment["DOCKET_OUTAGE_SECONDS"].flatMap(Int.init) ?? 6) }
    static let dbTimeout = 2

    enum Kind: Sendable { case stopped, frozen }

    actor Record {
        struct Fire: Sendable { var item: String; var transition: String; var version: Int?; var hash: String? }
        var fires: [String: Fire] = [:]
        var order: [String] = []
        var ok = 0
        var unavailable = 0
        var otherErrors: [String] = []
        var slowest: Duration = .zero
        var okAfterOutage = 0
        var afterOutage: Set<String> = []

        func sent(_ key: String, _ item: String, _ transition: String) { fires[key] = Fire(item: item, transition: transition); order.append(key) }
        func answered(_ key: String, _ event: RESPValue, took: Duration, afterOutage: Bool) {
            fires[key]?.version = event["version"]?.intValue
            fires[key]?.hash = event["hash"]?.stringValue
            ok += 1
            if afterOutage {
                okAfterOutage += 1
                self.afterOutage.insert("\(event["item"]?.stringValue ?? "")@\(event["version"]?.intValue ?? -1)")
            }
            slowest = max(slowest, took)
        }
        var reads = 0
        func read(took: Duration) {
            reads += 1
            slowest = max(slowest, took)
        }
        func failed(_ error: String, took: Duration) {
            slowest = max(slowest, took)
            if error.hasPrefix("UNAVAILABLE") { unavailable += 1 } else { otherErrors.append(error) }
        }
        var unanswered: [(String, Fire)] { order.compactMap { k in fires[k].flatMap { $0.hash == nil ? (k, $0) : nil } } }
        func fires(for item: String) -> [Fire] { fires.values.filter { $0.item == item } }
    }

    /// A private PostgreSQL cluster in `scratch`, its URL, and a way to take it away and bring it back.
    struct Cluster: Sendable {
        let embedded: EmbeddedPostgres
        let url: DatabaseURL
        let pgdata: String

        static func start(in scratch: String) async throws -> Cluster {
            var logger = Logger(label: "docket.test.outage")
            logger.logLevel = .warning
            let data = scratch + "/pg"
            let embedded = EmbeddedPostgres(configuration: .init(dataDirectory: data, settings: ["fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"]), logger: logger)
            let connection = try await embedded.start()
            let pointer = try? String(contentsOfFile: data + "/postgres.location", encoding: .utf8)
            let cluster = pointer?.trimmingCharacters(in: .whitespacesAndNewlines) ?? data + "/postgres"
            return Cluster(embedded: embedded, url: try DatabaseURL(connection.url), pgdata: cluster + "/data")
        }

        /// The postmaster and its children (backends, background workers).
        func processes() -> [pid_t] {
            guard let text = try? String(contentsOfFile: pgdata + "/postmaster.pid", encoding: .utf8),
                  let postmaster = pid_t(text.split(separator: "\n").first ?? "") else { return [] }
            var pids = [postmaster]
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
                guard let pid = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                      let close = stat.lastIndex(of: ")") else { continue }
                let fields = stat[stat.index(after: close)...].split(separator: " ")
                if fields.count > 1, pid_t(fields[1]) == postmaster { pids.append(pid) }
            }
            return pids
        }

        func takeAway(_ kind: Kind) async throws -> [pid_t] {
            switch kind {
            case .stopped:
                try await embedded.stop()
                return []
            case .frozen:
                let pids = processes()
                for pid in pids { kill(pid, SIGSTOP) }
                return pids
            }
        }

        func bringBack(_ kind: Kind, frozen: [pid_t]) async throws {
            switch kind {
            case .stopped: _ = try await embedded.start()
            case .frozen: for pid in frozen { kill(pid, SIGCONT) }
            }
        }

        func remove() async {
            for pid in processes() { kill(pid, SIGCONT) }
            try? await embedded.stop()
        }
    }

    /// EVENTS.READ AFTER `after`, page by page, to the end.
    static func readEvents(_ client: DocketClient, after: Int) async throws -> [RESPValue] {
        var out: [RESPValue] = []
        var after = after
        while true {
            let page = try await client.call("EVENTS.READ", "AFTER", "\(after)", "COUNT", "1000").arrayValue ?? []
            out += page
            guard page.count == 1000, let last = page.last?["seq"]?.intValue else { return out }
            after = last
        }
    }

    @Test("pg_ctl stop for several seconds: UNAVAILABLE within --db-timeout, recovery by itself, no loss")
    func stopped() async throws { try await run(.stopped) }

    @Test("PostgreSQL frozen (SIGSTOP) for several seconds: UNAVAILABLE within --db-timeout, recovery by itself, no loss")
    func frozen() async throws { try await run(.frozen) }

    func run(_ kind: Kind) async throws {
        try await withProcessScratch { scratch in
            let cluster = try await Cluster.start(in: scratch)
            var frozen: [pid_t] = []
            do {
                try await outage(kind, cluster: cluster, scratch: scratch, frozen: &frozen)
            } catch {
                for pid in frozen { kill(pid, SIGCONT) }
                await cluster.remove()
                throw error
            }
            await cluster.remove()
        }
    }

    func outage(_ kind: Kind, cluster: Cluster, scratch: String, frozen: inout [pid_t]) async throws {
        let timeout = Self.dbTimeout
        let server = try await ProcessServer.start(database: cluster.url, dataDirectory: scratch + "/data", scratch: scratch,
                                                   extra: ["--db-timeout", "\(timeout)", "--pool-size", "8"])
        defer { server.stop() }
        do {
            try await load(kind, cluster: cluster, server: server, scratch: scratch, frozen: &frozen)
        } catch {
            throw ProcessServer.Failure(description: "\(error); docket serve exit status \(server.exitStatus.map(String.init) ?? "none (running)"), stderr:\n\(server.stderr.suffix(4000))")
        }
    }

    /// One timed call of a load worker: a reply goes to `answered` with its time; a server
    /// error is recorded and the worker backs off 50 ms; a client failure is recorded and ends
    /// the worker (false).
    static func timed(_ record: Record, _ call: () async throws -> RESPValue,
                      answered: (RESPValue, Duration) async -> Void) async -> Bool {
        let started = ContinuousClock.now
        do {
            let reply = try await call()
            await answered(reply, ContinuousClock.now - started)
        } catch let error as ServerError {
            await record.failed(error.line, took: ContinuousClock.now - started)
            try? await Task.sleep(for: .milliseconds(50))
        } catch {
            await record.failed("client: \(error)", took: ContinuousClock.now - started)
            return false
        }
        return true
    }

    func load(_ kind: Kind, cluster: Cluster, server: ProcessServer, scratch: String, frozen: inout [pid_t]) async throws {
        let timeout = Self.dbTimeout
        let admin = try await server.admin()
        try await admin.call("WORKFLOW.LOAD", processLoopYAML)
        var ids: [String] = []
        for i in 1...6 { ids.append(try #require(try await admin.call("ITEM.CREATE", "crashloop", "Outage item \(i)")["id"]?.stringValue)) }
        let itemIDs = ids

        // A watcher, and what it was pushed.
        let watcher = try await server.admin(resp3: true)
        #expect(try await watcher.call("WATCH", "WORKFLOW", "crashloop").arrayValue?.first?.stringValue == "watch")
        let pushes = ProcessPushCollector(watcher)

        // The load: keyed fires from three clients and ITEM.GET from a fourth (answered on its
        // event loop's own connection); each reply, error or not, must come in time.
        let record = Record()
        let stop = ProcessFlag()
        let back = ProcessFlag()
        let load = Task {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    guard let client = try? await server.admin(timeout: .seconds(30)) else { return }
                    while await !stop.isSet {
                        let going = await Self.timed(record, { try await client.call("ITEM.GET", itemIDs.randomElement()!) }) { item, took in
                            if item["id"]?.stringValue == nil {
                                await record.failed("ITEM.GET answered \(item)", took: took)
                            } else {
                                await record.read(took: took)
                            }
                        }
                        guard going else { break }
                        try? await Task.sleep(for: .milliseconds(5))
                    }
                    await client.close()
                }
                for c in 0..<3 {
                    group.addTask {
                        guard let client = try? await server.admin(timeout: .seconds(30)) else { return }
                        var n = 0
                        while await !stop.isSet {
                            n += 1
                            let key = "o\(c)-\(n)"
                            let item = itemIDs.randomElement()!
                            let transition = Bool.random() ? "touch" : "flip"
                            await record.sent(key, item, transition)
                            let going = await Self.timed(record, { try await client.call("ITEM.FIRE", item, transition, "KEY", key) }) { event, took in
                                await record.answered(key, event, took: took, afterOutage: await back.isSet)
                            }
                            guard going else { break }
                        }
                        await client.close()
                    }
                }
            }
        }
        try await Task.sleep(for: .milliseconds(1500))
        let okBefore = await record.ok
        let env = ["XDG_CONFIG_HOME": scratch + "/config", "HOME": scratch, "DOCKET_USER": "", "DOCKET_TOKEN": ""]

        // PostgreSQL goes away.
        frozen = try await cluster.takeAway(kind)
        let wentAway = ContinuousClock.now
        try await Task.sleep(for: .seconds(timeout) + .milliseconds(500))
        let health = try await CLI.docket(["health", "--json", "--server", "127.0.0.1:\(server.port)", "--timeout", "\(timeout + 8)"], in: scratch, environment: env)
        #expect(health.status == 69, "docket health during the outage: \(health.status) \(health.stdout)\(health.stderr)")
        #expect(health.stdout.contains("\"unavailable\""), "\(health.stdout)")
        let remaining = Self.outage - (ContinuousClock.now - wentAway)
        if remaining > .zero { try await Task.sleep(for: remaining) }
        let unavailableDuring = await record.unavailable
        #expect(server.exitStatus == nil, "docket serve died during the outage: \(server.stderr.suffix(2000))")

        // PostgreSQL is back: the server recovers by itself.
        try await cluster.bringBack(kind, frozen: frozen)
        frozen = []
        let cameBack = ContinuousClock.now
        await back.set()
        var recovered: Duration?
        let probe = try await server.admin(timeout: .seconds(30))
        while ContinuousClock.now - cameBack < .seconds(60) {
            if (try? await probe.call("ITEM.GET", itemIDs[0])) != nil { recovered = ContinuousClock.now - cameBack; break }
            try await Task.sleep(for: .milliseconds(100))
        }
        await probe.close()
        let recovery = try #require(recovered, "no successful command within 60 s after PostgreSQL came back; stderr:\n\(server.stderr.suffix(3000))")
        #expect(recovery < .seconds(30), "recovered only after \(recovery)")
        // Some more load after recovery, then stop.
        let okAtRecovery = await record.ok
        try await Task.sleep(for: .milliseconds(1500))
        await stop.set()
        await load.value
        let (ok, unavailable, others, slowest, okAfter) = await (record.ok, record.unavailable, record.otherErrors, record.slowest, record.okAfterOutage)
        #expect(ok > okAtRecovery, "no fire succeeded after recovery")
        #expect(okAfter > 0)
        #expect(unavailableDuring > 0, "no command answered UNAVAILABLE while PostgreSQL was away")
        #expect(others.isEmpty, "other errors: \(others.prefix(5))")
        // No hang: every reply within the database timeout and a margin for a busy machine
        // (a query on a frozen server ignores cancellation: a reply that waited for it would
        // take the whole outage).
        #expect(slowest < .seconds(timeout) + .seconds(3), "slowest reply \(slowest) with --db-timeout \(timeout)")
        #expect(server.exitStatus == nil)
        let healthAfter = try await CLI.docket(["health", "--server", "127.0.0.1:\(server.port)"], in: scratch, environment: env)
        #expect(healthAfter.status == 0, "\(healthAfter.stdout)\(healthAfter.stderr)")

        // Every fire that did not get an event, retried with its key, gives exactly one.
        let unanswered = await record.unanswered
        var committedDespiteError = 0
        for (key, fire) in unanswered {
            let before = try await admin.call("ITEM.GET", fire.item)["version"]?.intValue ?? 0
            let event = try await admin.call("ITEM.FIRE", fire.item, fire.transition, "KEY", key)
            if (event["version"]?.intValue ?? 0) <= before { committedDespiteError += 1 }
            await record.answered(key, event, took: .zero, afterOutage: false)
        }
        var transitions = 0
        for id in itemIDs {
            let history = try await processCheckReplay(admin, id)
            let events = history.filter { $0["type"]?.stringValue == "transition" }
            transitions += events.count
            let fires = await record.fires(for: id)
            #expect(events.count == fires.count, "\(id): \(events.count) transition events for \(fires.count) keys")
            #expect(Set(fires.compactMap(\.version)) == Set(events.compactMap { $0["version"]?.intValue }), "\(id): keys and events differ")
        }
        let audit = try await admin.call("AUDIT.VERIFY")
        #expect(audit["ok"]?.boolValue == true, "\(audit)")

        // The event log is complete and numbered without a gap; the watcher was pushed events
        // after the outage, and with EVENTS.READ after the last one it saw it misses nothing.
        let total = itemIDs.count + transitions
        var log: [RESPValue] = []
        let deadline = ContinuousClock.now + .seconds(20)
        while log.count < total, ContinuousClock.now < deadline {
            log = try await Self.readEvents(admin, after: 0)
            if log.count < total { try await Task.sleep(for: .milliseconds(200)) }
        }
        let seqs = log.compactMap { $0["seq"]?.intValue }
        #expect(seqs == Array(1...max(1, seqs.count)) && seqs.count == total, "event log: \(seqs.count) numbered events of \(total), gapless \(seqs == Array(1...max(1, seqs.count)))")
        _ = await pushes.wait(timeout: .seconds(10)) { events in
            events.contains { ($0["seq"]?.intValue ?? 0) == seqs.last }
        }
        let pushed = await pushes.events.filter { $0["type"]?.stringValue == "transition" }
        let lastPushed = pushed.compactMap { $0["seq"]?.intValue }.max() ?? 0
        let resumed = try await Self.readEvents(watcher, after: lastPushed)
        let seen = Set(pushed.compactMap { $0["seq"]?.intValue } + resumed.compactMap { $0["seq"]?.intValue })
        let wanted = Set(log.filter { $0["type"]?.stringValue == "transition" }.compactMap { $0["seq"]?.intValue })
        #expect(wanted.isSubset(of: seen), "the watcher misses \(wanted.subtracting(seen).count) events even after EVENTS.READ")
        // The hub went on pushing after the outage: the events of fires answered after recovery were pushed.
        let later = await record.afterOutage
        let pushedLater = pushed.filter { later.contains("\($0["item"]?.stringValue ?? "")@\($0["version"]?.intValue ?? -1)") }.count
        #expect(pushedLater > 0, "no push after the outage: the event hub did not resume")
        await watcher.close()
        await admin.close()
        let label = kind == .stopped ? "stopped" : "frozen"
        print("outage (\(label), \(Self.outage), --db-timeout \(timeout)): reads ok \(await record.reads), fires ok \(ok) (\(okBefore) before, \(ok - okAtRecovery) after recovery), UNAVAILABLE \(unavailable), slowest reply \(slowest); recovered \(recovery) after PostgreSQL returned; retried \(unanswered.count) keys, \(committedDespiteError) had committed; events \(total), log gapless; watcher pushed \(pushed.count) (\(pushedLater) of \(later.count) fired after recovery), resumed with EVENTS.READ \(resumed.count), missing \(wanted.subtracting(seen).count)")
        server.signal(SIGTERM)
        let status = try await server.waitForExit(timeout: .seconds(30))
        #expect(status == 0, "exit \(status.map(String.init) ?? "none")")
    }
}
