import Foundation
import NIOConcurrencyHelpers
import Prometheus

/// What the server counts, kept once and shown twice: as Prometheus text on the metrics
/// listener (`--metrics-listen`) and as `INFO` sections. Command names are bounded (unknown
/// commands count as `unknown`), so label sets stay small.
public final class ServerMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()

    /// Per command name: what INFO's `# Commandstats` shows.
    struct CommandStats: Sendable {
        var calls = 0
        var failed = 0
        var microseconds: Int64 = 0
    }

    private struct Key: Hashable {
        var command: String
        var outcome: String
    }

    private struct Collectors {
        var counters: [Key: Counter] = [:]
        var histograms: [String: DurationHistogram] = [:]
        var stats: [String: CommandStats] = [:]
    }

    private let collectors = NIOLockedValueBox(Collectors())
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

    static let latencyBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(2.5), .seconds(5), .seconds(10),
    ]

    public init() {
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
        poolSizeGauge = registry.makeGauge(descriptor: name("database_pool", "size", "Most PostgreSQL connections this instance opens."))
    }

    /// One command answered: `outcome` is `ok` or the error class (`DENIED`, `UNAVAILABLE`, ...).
    func recordCommand(_ command: String, outcome: String, duration: Duration) {
        let key = Key(command: command, outcome: outcome)
        let (counter, histogram) = collectors.withLockedValue { c -> (Counter, DurationHistogram) in
            var stats = c.stats[command, default: CommandStats()]
            stats.calls += 1
            if outcome != "ok" { stats.failed += 1 }
            stats.microseconds += duration.microseconds
            c.stats[command] = stats
            let counter = c.counters[key] ?? registry.makeCounter(
                descriptor: MetricNameDescriptor(namespace: "docket", metricName: "commands", unitName: "total",
                                                 helpText: "Commands answered, by command and outcome (ok or the error class)."),
                labels: [("command", command), ("outcome", outcome)])
            c.counters[key] = counter
            let histogram = c.histograms[command] ?? registry.makeDurationHistogram(
                descriptor: MetricNameDescriptor(namespace: "docket", metricName: "command_duration", unitName: "seconds",
                                                 helpText: "Time from reading a command to writing its reply."),
                labels: [("command", command)], buckets: Self.latencyBuckets)
            c.histograms[command] = histogram
            return (counter, histogram)
        }
        counter.increment()
        histogram.record(duration)
    }

    var commandStats: [(String, CommandStats)] {
        collectors.withLockedValue { $0.stats.sorted { $0.key < $1.key } }
    }

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

    /// The Prometheus text exposition of every metric.
    func exposition() -> [UInt8] { registry.emitToBuffer() }
}

extension Duration {
    /// Whole microseconds, for INFO, logs and HEALTH.
    var microseconds: Int64 { components.seconds * 1_000_000 + components.attoseconds / 1_000_000_000_000 }
}
