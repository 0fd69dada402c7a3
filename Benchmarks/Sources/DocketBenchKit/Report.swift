import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Histogram

/// Latency percentiles of a set of requests, in microseconds.
public struct LatencySummary: Codable, Sendable, Hashable {
    public var count: UInt64
    public var meanMicros: Double
    public var p50: UInt64
    public var p90: UInt64
    public var p99: UInt64
    public var p999: UInt64
    public var max: UInt64

    public init(count: UInt64, meanMicros: Double, p50: UInt64, p90: UInt64, p99: UInt64, p999: UInt64, max: UInt64) {
        self.count = count
        self.meanMicros = meanMicros
        self.p50 = p50
        self.p90 = p90
        self.p99 = p99
        self.p999 = p999
        self.max = max
    }

    /// Reads the percentiles off an HdrHistogram of microseconds.
    public init(_ h: Histogram<UInt64>) {
        guard h.totalCount > 0 else {
            self.init(count: 0, meanMicros: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0)
            return
        }
        self.init(count: h.totalCount, meanMicros: h.mean, p50: h.valueAtPercentile(50), p90: h.valueAtPercentile(90),
                  p99: h.valueAtPercentile(99), p999: h.valueAtPercentile(99.9), max: h.max)
    }

    enum CodingKeys: String, CodingKey {
        case count, meanMicros = "mean_us", p50 = "p50_us", p90 = "p90_us", p99 = "p99_us", p999 = "p99_9_us", max = "max_us"
    }
}

/// Resident memory of the server during a run, from /proc/PID/status, in KiB.
public struct MemorySummary: Codable, Sendable, Hashable {
    public var pid: Int32
    public var startKiB: Int
    public var maxKiB: Int
    public var endKiB: Int

    public init(pid: Int32, startKiB: Int, maxKiB: Int, endKiB: Int) {
        self.pid = pid
        self.startKiB = startKiB
        self.maxKiB = maxKiB
        self.endKiB = endKiB
    }

    enum CodingKeys: String, CodingKey {
        case pid, startKiB = "start_kib", maxKiB = "max_kib", endKiB = "end_kib"
    }
}

/// What one run measured.
public struct BenchReport: Codable, Sendable, Hashable {
    public var scenario: Scenario
    public var clients: Int
    public var pipeline: Int
    /// Items of the population the run drew from (0 for ping).
    public var items: Int
    /// Seconds measured (after the warm-up).
    public var seconds: Double
    public var warmupSeconds: Double
    /// Requests answered without an error reply within the measured window.
    public var operations: UInt64
    /// Error replies by class (`DENIED`, `CONFLICT`, ...) and client failures (`client`).
    public var errors: [String: UInt64]
    public var throughput: Double
    public var latency: LatencySummary
    /// The same per kind of request (only for `mixed`).
    public var byOperation: [String: LatencySummary]
    public var memory: MemorySummary?

    public init(scenario: Scenario, clients: Int, pipeline: Int, items: Int, seconds: Double, warmupSeconds: Double,
                operations: UInt64, errors: [String: UInt64], latency: LatencySummary,
                byOperation: [String: LatencySummary] = [:], memory: MemorySummary? = nil) {
        self.scenario = scenario
        self.clients = clients
        self.pipeline = pipeline
        self.items = items
        self.seconds = seconds
        self.warmupSeconds = warmupSeconds
        self.operations = operations
        self.errors = errors
        self.throughput = seconds > 0 ? Double(operations) / seconds : 0
        self.latency = latency
        self.byOperation = byOperation
        self.memory = memory
    }

    enum CodingKeys: String, CodingKey {
        case scenario, clients, pipeline, items, seconds, warmupSeconds = "warmup_seconds", operations, errors,
             throughput = "ops_per_second", latency = "latency", byOperation = "by_operation", memory
    }

    /// Pretty-printed JSON with sorted keys.
    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }

    /// The report for people.
    public func text() -> String {
        var lines: [String] = []
        let itemsText = scenario == .ping ? "" : ", \(items) items"
        lines.append("\(scenario.rawValue): \(clients) client\(clients == 1 ? "" : "s"), pipeline \(pipeline)\(itemsText), "
            + "\(Self.number(seconds, 1)) s measured after \(Self.number(warmupSeconds, 1)) s warm-up")
        lines.append("  throughput   \(Self.number(throughput, 1)) ops/s (\(operations) ok)")
        let errorText = errors.isEmpty ? "none" : errors.keys.sorted().map { "\($0) \(errors[$0]!)" }.joined(separator: ", ")
        lines.append("  errors       \(errorText)")
        lines.append("  latency      " + Self.header)
        lines.append("  " + Self.row("all", latency))
        for name in byOperation.keys.sorted(by: { (Operation(rawValue: $0) ?? .ping) < (Operation(rawValue: $1) ?? .ping) }) {
            lines.append("  " + Self.row(name, byOperation[name]!))
        }
        if let m = memory {
            lines.append("  server RSS   start \(Self.mib(m.startKiB)), max \(Self.mib(m.maxKiB)), end \(Self.mib(m.endKiB)) (pid \(m.pid))")
        }
        return lines.joined(separator: "\n")
    }

    static let header = ["p50", "p90", "p99", "p99.9", "max", "mean"].map { $0.leftPadded(9) }.joined() + "  (ms)"

    static func row(_ name: String, _ l: LatencySummary) -> String {
        let values = [Double(l.p50), Double(l.p90), Double(l.p99), Double(l.p999), Double(l.max), l.meanMicros]
        return name.padded(11) + "  " + values.map { number($0 / 1000, 3).leftPadded(9) }.joined() + "  n=\(l.count)"
    }

    static func mib(_ kib: Int) -> String { "\(number(Double(kib) / 1024, 1)) MiB" }

    /// A fixed-point number without locale surprises.
    static func number(_ value: Double, _ decimals: Int) -> String {
        String(format: "%.\(decimals)f", value)
    }
}

extension String {
    func padded(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}

/// Reads a process's resident set size.
public enum ResidentMemory {
    /// `VmRSS` in KiB from the text of /proc/PID/status.
    public static func parse(status: String) -> Int? {
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let parts = line.dropFirst("VmRSS:".count).split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard let value = parts.first.flatMap({ Int($0) }) else { return nil }
            return parts.count > 1 && parts[1].lowercased() == "mb" ? value * 1024 : value
        }
        return nil
    }

    /// `VmRSS` of `pid` in KiB, or nil when it cannot be read.
    public static func of(_ pid: Int32) -> Int? {
        // /proc files report a size of 0: read until end of file.
        let fd = open("/proc/\(pid)/status", O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, 4096) }
            if n <= 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return parse(status: String(decoding: bytes, as: UTF8.self))
    }
}
