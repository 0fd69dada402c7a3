import ArgumentParser
import DocketClient
import Foundation

/// `docket-bench`: the load tool.
public struct DocketBench: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "docket-bench",
        abstract: "Load a running Docket server and report throughput and latency percentiles.",
        discussion: """
            First load a population (as admin), then run scenarios against it:

              docket-bench populate --items 10000
              docket-bench fire --clients 16 --duration 20
              docket-bench get --clients 16 --json
              docket-bench mixed --clients 8 --pid $(pgrep -f 'docket serve')
              docket-bench ping --clients 50 --pipeline 16
              docket-bench idle --clients 1000 --pid <server pid>
            """,
        subcommands: [Populate.self, Fire.self, Get.self, Mixed.self, Ping.self, Idle.self, Repeat.self]
    )

    public init() {}
}

/// A command of this tool; `execute` is its asynchronous body. (`docket-bench`'s entry point
/// calls it by this name: from top-level code, an existential `run()` resolves to
/// ParsableCommand's synchronous default, which only prints help.)
public protocol BenchCommand: AsyncParsableCommand {
    func execute() async throws
}

extension BenchCommand {
    public func run() async throws { try await execute() }
}

/// The shared body of the four scenario commands.
protocol ScenarioCommand: BenchCommand {
    static var scenario: Scenario { get }
    var connection: ConnectionOptions { get }
    var load: LoadOptions { get }
}

extension ScenarioCommand {
    /// What this command would run, without running it.
    func runner() throws -> Runner {
        let population = FileManager.default.fileExists(atPath: connection.state) ? try Population.load(connection.state) : nil
        var credentials = try connection.explicitToken().map { Credentials(user: connection.user ?? "admin", token: $0) }
        if Self.scenario == .ping, credentials == nil, population == nil {
            credentials = try connection.adminCredentials()
        }
        if Self.scenario != .ping, population == nil {
            throw ValidationError("no population at \(connection.state): run `docket-bench populate` first")
        }
        return Runner(scenario: Self.scenario, load: load, address: ServerAddress(host: connection.host, port: connection.port),
                      credentials: credentials, population: population)
    }

    public func execute() async throws {
        raiseOpenFileLimit()
        do {
            let report = try await runner().run()
            print(load.json ? report.json() : report.text())
        } catch let error as BenchError {
            FileHandle.standardError.write(Data("docket-bench: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}

public struct Fire: ScenarioCommand {
    public static let configuration = CommandConfiguration(
        abstract: "ITEM.FIRE on random items (a thematic project's submit/revise cycle).")
    static let scenario = Scenario.fire
    @OptionGroup public var connection: ConnectionOptions
    @OptionGroup public var load: LoadOptions
    public init() {}
}

public struct Get: ScenarioCommand {
    public static let configuration = CommandConfiguration(abstract: "ITEM.GET on random items.")
    static let scenario = Scenario.get
    @OptionGroup public var connection: ConnectionOptions
    @OptionGroup public var load: LoadOptions
    public init() {}
}

public struct Mixed: ScenarioCommand {
    public static let configuration = CommandConfiguration(
        abstract: "80% reads (GET, LIST, STATUS), 15% transitions and votes, 5% revisions and endorsements.")
    static let scenario = Scenario.mixed
    @OptionGroup public var connection: ConnectionOptions
    @OptionGroup public var load: LoadOptions
    public init() {}
}

public struct Ping: ScenarioCommand {
    public static let configuration = CommandConfiguration(abstract: "PING: the protocol layer alone.")
    static let scenario = Scenario.ping
    @OptionGroup public var connection: ConnectionOptions
    @OptionGroup public var load: LoadOptions
    public init() {}
}

/// `docket-bench populate`: loads the population through the server.
public struct Populate: BenchCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Create the bench users, group and items (as admin); saves them to --state.",
        discussion: "Keeps the items an earlier populate made when the server still has them, and adds what is missing.")

    @OptionGroup public var connection: ConnectionOptions

    @Option(help: "Thematic projects to have (the fire/get/mixed population).")
    public var items = 10_000

    @Option(help: "Policy papers open for endorsement (mixed).")
    public var papers = 100

    @Option(help: "Connections used to create items.")
    public var connections = 8

    @Option(help: "Commands per pipelined batch.")
    public var batch = 64

    @Flag(help: "Forget the items of an earlier populate.")
    public var fresh = false

    public init() {}

    public mutating func validate() throws {
        guard items >= 0, papers >= 0 else { throw ValidationError("--items and --papers cannot be negative") }
        guard connections >= 1, (1...1000).contains(batch) else { throw ValidationError("--connections must be at least 1, --batch 1...1000") }
    }

    public func execute() async throws {
        let existing = !fresh && FileManager.default.fileExists(atPath: connection.state) ? try? Population.load(connection.state) : nil
        let populator = Populator(
            address: ServerAddress(host: connection.host, port: connection.port), admin: try connection.adminCredentials(),
            projects: items, papers: papers, connections: connections, batch: batch,
            log: { FileHandle.standardError.write(Data("populate: \($0)\n".utf8)) })
        do {
            let population = try await populator.run(existing: existing)
            try population.save(connection.state)
            print("population: \(population.projects.count) thematic projects, \(population.papers.count) policy papers; saved to \(connection.state)")
        } catch let error as BenchError {
            FileHandle.standardError.write(Data("docket-bench: \(error)\n".utf8))
            throw ExitCode.failure
        }
    }
}

/// `docket-bench idle`: holds N authenticated idle connections and reports the server's RSS.
public struct Idle: BenchCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Open N authenticated connections, hold them idle, and report the server's VmRSS before and with them.")

    @OptionGroup public var connection: ConnectionOptions

    @Option(name: [.customShort("c"), .long], help: "Connections to hold.")
    public var clients = 1000

    @Option(help: ArgumentHelp("Seconds to hold them.", valueName: "seconds"))
    public var hold: Double = 3

    @Option(help: ArgumentHelp("The server's process id (for VmRSS).", valueName: "pid"))
    public var pid: Int32?

    @Flag(help: "Print JSON.")
    public var json = false

    public init() {}

    public func execute() async throws {
        raiseOpenFileLimit()
        let population = FileManager.default.fileExists(atPath: connection.state) ? try? Population.load(connection.state) : nil
        let credentials = try connection.explicitToken().map { Credentials(user: connection.user ?? "admin", token: $0) }
            ?? population?.secretariat ?? connection.adminCredentials()
        let before = pid.flatMap(ResidentMemory.of)
        let address = ServerAddress(host: connection.host, port: connection.port)
        let clients = try await Runner.connectAll(address, count: clients) { _ in credentials }
        try await Task.sleep(for: .seconds(hold))
        let with = pid.flatMap(ResidentMemory.of)
        for c in clients { await c.close() }
        try await Task.sleep(for: .milliseconds(500))
        let after = pid.flatMap(ResidentMemory.of)
        let result = IdleReport(connections: clients.count, holdSeconds: hold, beforeKiB: before, withKiB: with, afterKiB: after)
        print(json ? result.json() : result.text())
    }
}

/// `docket-bench repeat`: one command, sent N times in a row on one connection, with its
/// latency percentiles (the scale run's per-query latencies).
public struct Repeat: BenchCommand {
    public static let configuration = CommandConfiguration(
        abstract: "Send one command N times in a row and report its latency percentiles.",
        discussion: "Example: docket-bench repeat --count 50 -- ITEM.LIST STATE proposal LIMIT 100")

    @OptionGroup public var connection: ConnectionOptions

    @Option(help: "Times to send it (after one unmeasured warm-up).")
    public var count = 50

    @Flag(help: "Print JSON.")
    public var json = false

    @Argument(parsing: .captureForPassthrough, help: "The command and its arguments.")
    public var command: [String] = []

    public init() {}

    public mutating func validate() throws {
        if command.first == "--" { command.removeFirst() }
        guard !command.isEmpty else { throw ValidationError("name the command to repeat") }
        guard count >= 1 else { throw ValidationError("--count must be at least 1") }
    }

    public func execute() async throws {
        let population = FileManager.default.fileExists(atPath: connection.state) ? try? Population.load(connection.state) : nil
        let credentials = try connection.explicitToken().map { Credentials(user: connection.user ?? "admin", token: $0) }
            ?? population?.secretariat ?? connection.adminCredentials()
        let client = try await Runner.connect(ServerAddress(host: connection.host, port: connection.port), credentials)
        var histogram = Runner.histogram()
        var replySize = 0
        _ = try await client.call(command)
        for _ in 0..<count {
            let t0 = Runner.now()
            let reply = try await client.call(command)
            _ = histogram.record(max(1, (Runner.now() - t0) / 1000))
            replySize = reply.arrayValue?.count ?? 1
        }
        await client.close()
        let latency = LatencySummary(histogram)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(RepeatReport(command: command, replyElements: replySize, latency: latency)), as: UTF8.self))
        } else {
            print("\(command.joined(separator: " ")): \(count) times, \(replySize) element(s) per reply")
            print("  " + BenchReport.header)
            print("  " + BenchReport.row("latency", latency))
        }
    }
}

/// What `repeat` measured.
public struct RepeatReport: Codable, Sendable, Hashable {
    public var command: [String]
    public var replyElements: Int
    public var latency: LatencySummary
    enum CodingKeys: String, CodingKey { case command, replyElements = "reply_elements", latency }
}

/// What `idle` measured.
public struct IdleReport: Codable, Sendable, Hashable {
    public var connections: Int
    public var holdSeconds: Double
    public var beforeKiB: Int?
    public var withKiB: Int?
    public var afterKiB: Int?

    public init(connections: Int, holdSeconds: Double, beforeKiB: Int?, withKiB: Int?, afterKiB: Int?) {
        self.connections = connections
        self.holdSeconds = holdSeconds
        self.beforeKiB = beforeKiB
        self.withKiB = withKiB
        self.afterKiB = afterKiB
    }

    enum CodingKeys: String, CodingKey {
        case connections, holdSeconds = "hold_seconds", beforeKiB = "rss_before_kib", withKiB = "rss_with_connections_kib", afterKiB = "rss_after_close_kib"
    }

    /// KiB per connection held, when both readings exist.
    public var perConnectionKiB: Double? {
        guard let b = beforeKiB, let w = withKiB, connections > 0 else { return nil }
        return Double(w - b) / Double(connections)
    }

    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }

    public func text() -> String {
        func mib(_ k: Int?) -> String { k.map { BenchReport.mib($0) } ?? "n/a" }
        var line = "idle: \(connections) authenticated connections held \(BenchReport.number(holdSeconds, 1)) s; server RSS before \(mib(beforeKiB)), "
            + "with them \(mib(withKiB)), after closing \(mib(afterKiB))"
        if let per = perConnectionKiB { line += " (\(BenchReport.number(per, 1)) KiB per connection)" }
        return line
    }
}

/// Lets one process hold thousands of connections.
func raiseOpenFileLimit() {
    var limit = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
    limit.rlim_cur = limit.rlim_max
    _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
}
