import Foundation
import Histogram
import Testing
@testable import DocketBenchKit

@Suite struct ReportTests {
    func sample() -> BenchReport {
        BenchReport(
            scenario: .fire, clients: 16, pipeline: 1, items: 10_000, seconds: 10, warmupSeconds: 2,
            operations: 25_000, errors: ["DENIED": 3],
            latency: LatencySummary(count: 25_000, meanMicros: 6_100, p50: 5_000, p90: 9_000, p99: 20_000, p999: 41_000, max: 63_000),
            memory: MemorySummary(pid: 42, startKiB: 51_200, maxKiB: 61_440, endKiB: 60_000))
    }

    @Test func throughputIsOperationsPerMeasuredSecond() {
        #expect(sample().throughput == 2_500)
    }

    @Test func percentilesComeFromTheHistogram() {
        var h = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: .three)
        for v in 1...1000 { _ = h.record(UInt64(v)) }
        let l = LatencySummary(h)
        #expect(l.count == 1000)
        #expect(l.p50 == 500)
        #expect(l.p90 == 900)
        #expect(l.p99 == 990)
        #expect(l.p999 == 999)
        #expect(l.max == 1000)
        #expect(abs(l.meanMicros - 500.5) < 1)
        #expect(LatencySummary(Histogram<UInt64>(highestTrackableValue: 1000)).p99 == 0)
    }

    @Test func text() {
        let lines = sample().text().split(separator: "\n").map(String.init)
        #expect(lines[0] == "fire: 16 clients, pipeline 1, 10000 items, 10.0 s measured after 2.0 s warm-up")
        #expect(lines[1] == "  throughput   2500.0 ops/s (25000 ok)")
        #expect(lines[2] == "  errors       DENIED 3")
        #expect(lines[3] == "  latency            p50      p90      p99    p99.9      max     mean  (ms)")
        #expect(lines[4] == "  all              5.000    9.000   20.000   41.000   63.000    6.100  n=25000")
        #expect(lines[5] == "  server RSS   start 50.0 MiB, max 60.0 MiB, end 58.6 MiB (pid 42)")
        #expect(lines.count == 6)
    }

    @Test func textOfPingHasNoItemsAndMixedListsEachOperation() {
        var r = sample()
        r.scenario = .ping
        r.errors = [:]
        r.memory = nil
        r.byOperation = ["status": r.latency, "get": r.latency]
        let lines = r.text().split(separator: "\n").map(String.init)
        #expect(lines[0] == "ping: 16 clients, pipeline 1, 10.0 s measured after 2.0 s warm-up")
        #expect(lines[2] == "  errors       none")
        #expect(lines[5].hasPrefix("  get "))
        #expect(lines[6].hasPrefix("  status "))
    }

    @Test func json() throws {
        let text = sample().json()
        let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(object["scenario"] as? String == "fire")
        #expect(object["clients"] as? Int == 16)
        #expect(object["ops_per_second"] as? Double == 2500)
        #expect((object["errors"] as? [String: Int])?["DENIED"] == 3)
        let latency = try #require(object["latency"] as? [String: Any])
        #expect(latency["p50_us"] as? Int == 5000)
        #expect(latency["p99_9_us"] as? Int == 41000)
        #expect(latency["max_us"] as? Int == 63000)
        #expect((object["memory"] as? [String: Any])?["max_kib"] as? Int == 61440)
        let back = try JSONDecoder().decode(BenchReport.self, from: Data(text.utf8))
        #expect(back == sample())
    }

    @Test func residentMemoryParsesProcStatus() {
        let status = "Name:\tdocket\nVmPeak:\t  300000 kB\nVmRSS:\t   51234 kB\nThreads:\t4\n"
        #expect(ResidentMemory.parse(status: status) == 51234)
        #expect(ResidentMemory.parse(status: "Name:\tx\n") == nil)
        #expect(ResidentMemory.of(getpid()) ?? 0 > 0)
    }

    @Test func idleReport() throws {
        let r = IdleReport(connections: 1000, holdSeconds: 3, beforeKiB: 40_960, withKiB: 61_440, afterKiB: 45_000)
        #expect(r.perConnectionKiB == 20.48)
        #expect(r.text() == "idle: 1000 authenticated connections held 3.0 s; server RSS before 40.0 MiB, with them 60.0 MiB, after closing 43.9 MiB (20.5 KiB per connection)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.json().utf8)) as? [String: Any])
        #expect(object["rss_with_connections_kib"] as? Int == 61440)
    }
}
