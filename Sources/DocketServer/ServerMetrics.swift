import Foundation
import NIOConcurrencyHelpers
import Prometheus

/// What the server counts, kept once and shown twice: as Prometheus text on the metrics
/// listener (`--metrics-listen`) and as `INFO` sections. Command names are bounded (unknown
/// commands count as `unknown`), so label sets stay small.
public final class ServerMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()

    /// Per command name: what INFO's `# Commandstats` shows, and its duration histogram.
    struct CommandStats: Sendable {
        var calls = 0
        var failed = 0
        var microseconds: Int64 = 0
        /// Commands per bucket of `latencyBuckets` (not cumulative), and over the last bound.
        var buckets = [Int](repeating: 0, count: ServerMetrics.latencyBuckets.count + 1)
        /// Total seconds, the histogram's `_sum`.
        var seconds: Double = 0
    }

    /// Successful answers of one command a session has not handed to its meter yet: a
    /// pipelined run of PINGs takes the meter's lock once per batch, not once per PING.
    struct Tally {
        var meter: CommandMeter?
        var counted = CommandStats()

        mutating func add(_ elapsed: Duration) { counted.add(elapsed) }

        /// Hands what is counted to the meter and starts again empty.
        mutating func flush() {
            guard let meter else { return }
            if counted.calls > 0 { meter.record(counted) }
            self.meter = nil
            counted.reset()
        }
    }

    /// One command's collectors, made once: recording a command takes no registry lookup and
    /// no shared lock (the counters have their own; INFO's figures and the duration histogram
    /// have this command's lock). Error outcomes get their counter on first use.
    final class CommandMeter: Sendable {
        let name: String
        let ok: Counter
        let stats = NIOLockedValueBox(CommandStats())
        let failures = NIOLockedValueBox<[String: Counter]>([:])
        let registry: PrometheusCollectorRegistry

        init(_ name: String, registry: PrometheusCollectorRegistry) {
            self.name = name
            self.registry = registry
            ok = Self.counter(name, outcome: "ok", registry)
        }

        static func counter(_ name: String, outcome: String, _ registry: PrometheusCollectorRegistry) -> Counter {
            registry.makeCounter(
                descriptor: MetricNameDescriptor(namespace: "docket", metricName: "commands", unitName: "total",
                                                 helpText: "Commands answered, by command and outcome (ok or the error class)."),
                labels: [("command", name), ("outcome", outcome)])
        }

        /// One command answered: `outcome` is `ok` or the error class (`DENIED`, `UNAVAILABLE`, ...).
        func record(outcome: String, duration elapsed: Duration) {
            var one = CommandStats()
            one.add(elapsed)
            guard outcome != "ok" else {
                record(one)
                return
            }
            stats.withLockedValue { s in
                s.failed += 1
                s.add(one)
            }
            failures.withLockedValue { f in
                if let counter = f[outcome] { return counter }
                let counter = Self.counter(name, outcome: outcome, registry)
                f[outcome] = counter
                return counter
            }.increment()
        }

        /// Successful answers counted by a session.
        func record(_ counted: CommandStats) {
            stats.withLockedValue { $0.add(counted) }
            ok.increment(by: Int64(counted.calls))
        }
    }

    /// Meters of the known commands, made at start (so never locked to look up), and of any
    /// other name on first use.
    private let known: [String: CommandMeter]
    private let others = NIOLockedValueBox<[String: CommandMeter]>([:])
    private let timersFiredCounter: Counter
    private let authFailuresCounter: Counter
    private let eventsPushedCounter: Counter
    private let connectionsGauge: Gauge
    private let watchersGauge: Gauge
    private let databaseInFlightGauge: Gauge
    private let poolSizeGauge: Gauge
    private let counts = NIOLockedValueBox(Counts())

    struct Counts: Sendable {
        var timersFired = 0
        var authFailures = 0
        var eventsPushed = 0
        var databaseInFlight = 0
    }

    /// Bucket bounds of `docket_command_duration_seconds`, in seconds.
    static let latencyBuckets: [Double] = [
        0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ]

    /// The first bucket whose bound is at least `seconds` (`latencyBuckets.count`: none).
    static func bucket(of seconds: Double) -> Int {
        var i = 0
        while i < latencyBuckets.count, latencyBuckets[i] < seconds { i += 1 }
        return i
    }

    public convenience init() {
        self.init(commands: Array(CommandRouter.table.keys) + ["COMMAND", "unknown"])
    }

    /// `commands`: the names whose meters are made up front (the router's table).
    init(commands: [String]) {
        let registry = self.registry
        known = Dictionary(commands.map { ($0, CommandMeter($0, registry: registry)) }, uniquingKeysWith: { a, _ in a })
        func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "docket", metricName: metric, unitName: unit, helpText: help)
        }
        timersFiredCounter = registry.makeCounter(descriptor: name("timers_fired", "total", "Reminders and timed transitions fired by this instance."))
        authFailuresCounter = registry.makeCounter(descriptor: name("auth_failures", "total", "AUTH and HELLO AUTH attempts refused."))
        eventsPushedCounter = registry.makeCounter(descriptor: name("watch_events_pushed", "total", "Events pushed to WATCH subscribers."))
        connectionsGauge = registry.makeGauge(descriptor: name("connections", "open", "Admin protocol connections open now."))
        watchersGauge = registry.makeGauge(descriptor: name("watchers", "open", "Connections subscribed with WATCH."))
        databaseInFlightGauge = registry.makeGauge(descriptor: name("database_operations", "in_flight",
                                                                     "Commands holding or waiting for a PostgreSQL connection."))
        poolSizeGauge = registry.makeGauge(descriptor: name("database_pool", "size", "PostgreSQL connections for commands (--pool-size), split between the event loops."))
    }

    /// The meter for a command name (`ITEM.GET`, `COMMAND`, `unknown`).
    func meter(_ command: String) -> CommandMeter {
        if let meter = known[command] { return meter }
        return others.withLockedValue { o in
            if let meter = o[command] { return meter }
            let meter = CommandMeter(command, registry: registry)
            o[command] = meter
            return meter
        }
    }

    /// Per command that has been called: calls, failures, time.
    var commandStats: [(String, CommandStats)] {
        let all = Array(known.values) + others.withLockedValue { Array($0.values) }
        return all.map { ($0.name, $0.stats.withLockedValue { $0 }) }.filter { $0.1.calls > 0 }.sorted { $0.0 < $1.0 }
    }

    /// Commands answered so far (INFO's `total_commands_processed`).
    var commandsProcessed: Int { commandStats.reduce(0) { $0 + $1.1.calls } }

    public func timersFired(_ n: Int) {
        guard n > 0 else { return }
        counts.withLockedValue { $0.timersFired += n }
        timersFiredCounter.increment(by: Int64(n))
    }

    func authFailed() {
        counts.withLockedValue { $0.authFailures += 1 }
        authFailuresCounter.increment()
    }

    func eventPushed() {
        counts.withLockedValue { $0.eventsPushed += 1 }
        eventsPushedCounter.increment()
    }

    func databaseOperation(started: Bool) {
        let now = counts.withLockedValue { c in
            c.databaseInFlight += started ? 1 : -1
            return c.databaseInFlight
        }
        databaseInFlightGauge.set(Double(now))
    }

    var snapshot: Counts { counts.withLockedValue { $0 } }

    /// Gauges that mirror `ServerStats`, refreshed just before each scrape.
    func refresh(connections: Int, watchers: Int, poolSize: Int) {
        connectionsGauge.set(Double(connections))
        watchersGauge.set(Double(watchers))
        poolSizeGauge.set(Double(poolSize))
    }

    /// The Prometheus text exposition of every metric: the registry's, then the command
    /// duration histograms, which the meters keep themselves (so a session can add a batch).
    func exposition() -> [UInt8] {
        var out = registry.emitToBuffer()
        let meters = (Array(known.values) + others.withLockedValue { Array($0.values) }).sorted { $0.name < $1.name }
        let name = "docket_command_duration_seconds"
        out += Array("# HELP \(name) Time from reading a command to writing its reply.\n# TYPE \(name) histogram\n".utf8)
        for meter in meters {
            let s = meter.stats.withLockedValue { $0 }
            let label = "command=\"\(meter.name)\""
            var cumulative = 0
            var text = ""
            for (i, bound) in Self.latencyBuckets.enumerated() {
                cumulative += s.buckets[i]
                text += "\(name)_bucket{\(label),le=\"\(bound)\"} \(cumulative)\n"
            }
            let count = cumulative + s.buckets[Self.latencyBuckets.count]
            text += "\(name)_bucket{\(label),le=\"+Inf\"} \(count)\n"
            text += "\(name)_sum{\(label)} \(s.seconds)\n\(name)_count{\(label)} \(count)\n"
            out += Array(text.utf8)
        }
        return out
    }
}

extension ServerMetrics.CommandStats {
    /// One more call that took `elapsed`.
    mutating func add(_ elapsed: Duration) {
        // `components` divides a 128-bit count of attoseconds: once per command, not three times.
        let (whole, attoseconds) = elapsed.components
        let seconds = Double(whole) + Double(attoseconds) * 1e-18
        calls += 1
        microseconds += Duration.microseconds(seconds: whole, attoseconds: attoseconds)
        self.seconds += seconds
        buckets[ServerMetrics.bucket(of: seconds)] += 1
    }

    /// Adds what `other` counted (its failures are counted by the caller).
    mutating func add(_ other: ServerMetrics.CommandStats) {
        calls += other.calls
        microseconds += other.microseconds
        seconds += other.seconds
        for i in buckets.indices { buckets[i] += other.buckets[i] }
    }

    /// Back to nothing counted, keeping the buckets' storage.
    mutating func reset() {
        (calls, failed, microseconds, seconds) = (0, 0, 0, 0)
        for i in buckets.indices { buckets[i] = 0 }
    }
}

extension Duration {
    /// Whole microseconds, for INFO, logs and HEALTH.
    var microseconds: Int64 {
        let (seconds, attoseconds) = components
        return Self.microseconds(seconds: seconds, attoseconds: attoseconds)
    }

    /// Whole microseconds of a duration already split into its components.
    static func microseconds(seconds: Int64, attoseconds: Int64) -> Int64 {
        seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }
}
