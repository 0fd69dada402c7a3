import DocketClient
import DocketWire
import Foundation
import Histogram

/// Runs one scenario: connects the workers, warms up, measures, and reports.
public struct Runner: Sendable {
    public var scenario: Scenario
    public var load: LoadOptions
    public var address: ServerAddress
    /// Credentials for ping, or for the main connection when given explicitly.
    public var credentials: Credentials?
    public var population: Population?

    public init(scenario: Scenario, load: LoadOptions, address: ServerAddress, credentials: Credentials?, population: Population?) {
        self.scenario = scenario
        self.load = load
        self.address = address
        self.credentials = credentials
        self.population = population
    }

    static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    /// Threads of the event loop group the `ping`, `get` and `fire` workers run on. One costs
    /// less CPU per request than one per core (about 31 µs against 40 µs for `get` at 16 clients
    /// on 2 cores): a single thread picks up many connections' replies in one wake-up.
    static let eventLoopThreads = 1

    static func histogram() -> Histogram<UInt64> {
        Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: .three)
    }

    struct WorkerResult: Sendable {
        var all = Runner.histogram()
        var byOperation: [Operation: Histogram<UInt64>] = [:]
        var operations: UInt64 = 0
        var errors: [String: UInt64] = [:]

        /// One measured reply to `request`, in a batch that took `micros`: an error reply is
        /// counted by its class, any other is an operation with that latency.
        mutating func record(_ request: Request, errorClass: String?, micros: UInt64) {
            if let errorClass {
                errors[errorClass, default: 0] += 1
                return
            }
            operations += 1
            _ = all.record(micros)
            if byOperation[request.operation] == nil { byOperation[request.operation] = Runner.histogram() }
            _ = byOperation[request.operation]!.record(micros)
        }
    }

    /// The class of an error reply, its first word (`DENIED`, `NOTFOUND`); nil for any other reply.
    static func errorClass(of reply: RESPValue) -> String? {
        guard case .error(let line) = reply else { return nil }
        return String(line.prefix { $0 != " " })
    }

    /// Connects and authenticates one connection.
    static func connect(_ address: ServerAddress, _ credentials: Credentials) async throws -> DocketClient {
        let client = try await DocketClient.connect(to: address, timeout: .seconds(60))
        do {
            try await client.auth(user: credentials.user, token: credentials.token)
        } catch {
            await client.close()
            throw BenchError("AUTH as \(credentials.user) failed: \(error)")
        }
        return client
    }

    /// The population's project items the run uses.
    func items() throws -> ItemIDs {
        guard let population else { throw BenchError("scenario \(scenario.rawValue) needs a population: run `docket-bench populate`") }
        let items = population.projects.prefix(load.items)
        guard items.count > 0 else { throw BenchError("the population has no items") }
        return items
    }

    public func run() async throws -> BenchReport {
        if scenario == .mixed, load.pipeline != 1 {
            throw BenchError("mixed runs with --pipeline 1 (its votes go over a second connection)")
        }
        let mainCredentials: Credentials
        switch scenario {
        case .ping:
            guard let c = credentials ?? population?.secretariat else { throw BenchError("ping needs --token or a population") }
            mainCredentials = c
        default:
            guard let p = population else { throw BenchError("scenario \(scenario.rawValue) needs a population: run `docket-bench populate`") }
            mainCredentials = credentials ?? p.secretariat
        }
        let items = scenario == .ping ? ItemIDs(prefix: "") : try items()

        // Where each item is in the fire cycle, and who endorses each paper, before the clock starts.
        var inAppraisal: Set<String> = []
        var endorsements: [String: Set<String>] = [:]
        if scenario == .fire || scenario == .mixed, let population {
            let client = try await Self.connect(address, mainCredentials)
            inAppraisal = try await Self.itemsInAppraisal(client, group: population.group, within: items)
            if scenario == .mixed {
                for paper in population.papers {
                    let reply = try await client.call("ENDORSE.LIST", paper)
                    endorsements[paper] = Set((reply.arrayValue ?? []).compactMap { $0["member"]?.stringValue })
                }
            }
            await client.close()
        }

        // Each path connects everyone first (a few at a time), then starts the clock.
        let workloads = (0..<load.clients).map {
            workload(for: $0, items: items, inAppraisal: inAppraisal, endorsements: endorsements)
        }
        let (results, memory) = scenario == .mixed
            ? try await runOnClients(workloads, credentials: mainCredentials)
            : try await runOnEventLoops(workloads, credentials: mainCredentials)

        var total = WorkerResult()
        for r in results {
            total.all.add(r.all)
            total.operations += r.operations
            for (k, v) in r.errors { total.errors[k, default: 0] += v }
            for (op, h) in r.byOperation {
                if total.byOperation[op] == nil { total.byOperation[op] = Self.histogram() }
                total.byOperation[op]!.add(h)
            }
        }
        var byOperation: [String: LatencySummary] = [:]
        if scenario == .mixed {
            for (op, h) in total.byOperation { byOperation[op.rawValue] = LatencySummary(h) }
        }
        return BenchReport(
            scenario: scenario, clients: load.clients, pipeline: load.pipeline, items: scenario == .ping ? 0 : items.count,
            seconds: load.duration, warmupSeconds: load.warmup, operations: total.operations, errors: total.errors,
            latency: LatencySummary(total.all), byOperation: byOperation, memory: memory)
    }

    /// Worker `w`'s workload.
    func workload(for w: Int, items: ItemIDs, inAppraisal: Set<String>, endorsements: [String: Set<String>]) -> any Workload {
        switch scenario {
        case .ping: return PingWorkload()
        case .get: return GetWorkload(items: items)
        case .fire:
            return FireWorkload(owned: OwnedItems(items: items, worker: w, workers: load.clients, knownInAppraisal: inAppraisal))
        case .mixed:
            let p = population!
            var papers: [String] = []
            var i = w
            while i < p.papers.count {
                papers.append(p.papers[i])
                i += load.clients
            }
            return MixedWorkload(
                plan: .standard, all: items,
                owned: OwnedItems(items: items, worker: w, workers: load.clients, knownInAppraisal: inAppraisal),
                group: p.group, members: p.members, papers: papers, endorsed: papers.map { endorsements[$0] ?? [] })
        }
    }

    /// The measured window, fixed once every connection is up, and the sampling of the server's
    /// memory across it.
    struct Clock: Sendable {
        let seed: UInt64
        let measureStart: UInt64
        let end: UInt64
        let memory: MemorySampler?
        let sampling: Task<Void, Never>?

        /// Worker `w`'s random seed.
        func seed(worker w: Int) -> UInt64 { seed &+ UInt64(w) &* 0x9E37_79B9 }

        /// The server's memory over the run, once the sampling has ended.
        func memorySummary() async -> MemorySummary? {
            await sampling?.value
            return memory?.summary()
        }
    }

    /// Starts the warm-up now.
    func startClock() -> Clock {
        let seed = load.seed != 0 ? load.seed : UInt64(truncatingIfNeeded: Self.now() ^ UInt64(getpid()) << 32)
        let start = Self.now()
        let measureStart = start + UInt64(load.warmup * 1e9)
        let end = measureStart + UInt64(load.duration * 1e9)
        let memory = load.pid.map { MemorySampler(pid: $0) }
        let sampling = memory.map { m in Task { await m.run(until: end) } }
        return Clock(seed: seed, measureStart: measureStart, end: end, memory: memory, sampling: sampling)
    }

    /// Runs `workloads` on `DocketClient`s (the `mixed` scenario, whose votes go over a second,
    /// reviewer connection): connects them all, starts the clock, and runs `work` for each.
    func runOnClients(_ workloads: [any Workload], credentials: Credentials) async throws -> (results: [WorkerResult], memory: MemorySummary?) {
        let clients = try await Self.connectAll(address, count: load.clients, credentials: { _ in credentials })
        var reviewerClients: [DocketClient] = []
        if let population, !population.reviewers.isEmpty {
            reviewerClients = try await Self.connectAll(address, count: load.clients) { population.reviewers[$0 % population.reviewers.count] }
        }
        defer {
            let all = clients + reviewerClients
            Task { for c in all { await c.close() } }
        }

        let clock = startClock()
        let results = await withTaskGroup(of: WorkerResult.self) { group in
            for (w, workload) in workloads.enumerated() {
                let client = clients[w]
                let reviewer = reviewerClients.isEmpty ? client : reviewerClients[w]
                let pipeline = load.pipeline
                group.addTask {
                    await Self.work(workload, client: client, reviewer: reviewer, pipeline: pipeline,
                                    seed: clock.seed(worker: w), measureStart: clock.measureStart, end: clock.end)
                }
            }
            var out: [WorkerResult] = []
            for await r in group { out.append(r) }
            return out
        }
        return (results, await clock.memorySummary())
    }

    /// One `DocketClient` worker's loop (`mixed`): send a batch of `pipeline` requests, wait for the
    /// replies, record. `WorkerLoop` records the same way for the event-loop workers.
    static func work(_ initial: any Workload, client: DocketClient, reviewer: DocketClient, pipeline: Int,
                     seed: UInt64, measureStart: UInt64, end: UInt64) async -> WorkerResult {
        var workload = initial
        var rng = SplitMix64(seed: seed)
        var result = WorkerResult()
        var batch: [Request] = []
        batch.reserveCapacity(pipeline)
        while true {
            let t0 = now()
            if t0 >= end { break }
            batch.removeAll(keepingCapacity: true)
            for _ in 0..<pipeline { batch.append(workload.next(&rng)) }
            var replies: [RESPValue]
            do {
                if pipeline == 1 {
                    let r = batch[0]
                    replies = [try await (r.asReviewer ? reviewer : client).send(r.args)]
                } else {
                    replies = try await client.pipeline(batch.map(\.args))
                }
            } catch {
                result.errors["client", default: 0] += UInt64(batch.count)
                if !client.isConnected || !reviewer.isConnected { break }
                for r in batch { workload.completed(r, error: "client") }
                continue
            }
            let t1 = now()
            let measured = t0 >= measureStart && t1 <= end
            let micros = max(1, (t1 - t0) / 1000)
            for (request, reply) in zip(batch, replies) {
                let errorClass = errorClass(of: reply)
                workload.completed(request, error: errorClass)
                if measured { result.record(request, errorClass: errorClass, micros: micros) }
            }
        }
        return result
    }

    /// Opens `count` authenticated connections, 50 at a time.
    public static func connectAll(_ address: ServerAddress, count: Int, credentials: @Sendable @escaping (Int) -> Credentials) async throws -> [DocketClient] {
        try await inChunks(count) { try await connect(address, credentials($0)) }
    }

    /// Calls `open` for each of `0..<count`, 50 at a time, and returns what it made in that order.
    static func inChunks<T: Sendable>(_ count: Int, _ open: @Sendable @escaping (Int) async throws -> T) async throws -> [T] {
        var made: [T] = []
        made.reserveCapacity(count)
        var next = 0
        while next < count {
            let upper = min(count, next + 50)
            let chunk = try await withThrowingTaskGroup(of: (Int, T).self) { group in
                for i in next..<upper { group.addTask { (i, try await open(i)) } }
                var got: [(Int, T)] = []
                for try await c in group { got.append(c) }
                return got.sorted { $0.0 < $1.0 }.map(\.1)
            }
            made += chunk
            next = upper
        }
        return made
    }

    /// Ids of the group's thematic projects now in appraisal, paging through ITEM.LIST.
    static func itemsInAppraisal(_ client: DocketClient, group: String, within items: ItemIDs) async throws -> Set<String> {
        var found: Set<String> = []
        var after: String?
        while true {
            var args = ["ITEM.LIST", "WORKFLOW", FireCycle.workflow, "STATE", FireCycle.other, "GROUP", group, "LIMIT", "10000"]
            if let after { args += ["AFTER", after] }
            let page = try await client.call(args).arrayValue ?? []
            for item in page { if let id = item["id"]?.stringValue { found.insert(id) } }
            guard page.count == 10000, let last = page.last?["id"]?.stringValue else { break }
            after = last
        }
        return found
    }
}

/// Samples a process's VmRSS every 100 ms.
final class MemorySampler: @unchecked Sendable {
    let pid: Int32
    private let lock = NSLock()
    private var samples: (start: Int, max: Int, end: Int)

    init(pid: Int32) {
        self.pid = pid
        let first = ResidentMemory.of(pid) ?? 0
        samples = (first, first, first)
    }

    func sample() {
        guard let kib = ResidentMemory.of(pid) else { return }
        lock.withLock { samples = (samples.start, max(samples.max, kib), kib) }
    }

    func run(until end: UInt64) async {
        while Runner.now() < end {
            sample()
            try? await Task.sleep(for: .milliseconds(100))
        }
        sample()
    }

    func summary() -> MemorySummary {
        let s = lock.withLock { samples }
        return MemorySummary(pid: pid, startKiB: s.start, maxKiB: s.max, endKiB: s.end)
    }
}
