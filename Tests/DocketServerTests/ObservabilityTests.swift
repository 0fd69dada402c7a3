import DocketClient
import DocketServer
import DocketTestSupport
import DocketWire
import Foundation
import Logging
import NIOCore
import Testing

/// HEALTH, the Prometheus metrics and INFO: the same figures, before and after some load.
@Suite("Observability: HEALTH, metrics, INFO", .timeLimit(.minutes(10)))
struct ObservabilityTests {
    /// `name{labels} value` lines of a Prometheus exposition, by series.
    static func series(_ text: String) -> [String: Double] {
        var out: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            out[String(line[..<space])] = value
        }
        return out
    }

    @Test("HEALTH answers before AUTH with the database's state")
    func health() async throws {
        try await TestServer.with { server in
            let client = try await DocketClient.connect(to: server.address)
            defer { Task { await client.close() } }
            let health = try await client.call("HEALTH")
            #expect(health["status"]?.stringValue == "ok")
            #expect(health["database"]?.stringValue == "ok")
            #expect((health["database_ms"]?.intValue ?? -1) >= 0)
            #expect(health["version"]?.stringValue == "0.1.0")
            // Everything else still needs AUTH.
            await SessionSecurityTests.expectError("NOAUTH") { try await client.call("ITEM.LIST") }
        }
    }

    @Test("After a load, the exposition has commands by name and outcome, latency histograms, pool, timers, watchers; INFO agrees")
    func metricsAfterLoad() async throws {
        try await TestServer.with { server in
            let watcher = try await DocketClient.connect(to: server.address)
            defer { Task { await watcher.close() } }
            try await watcher.hello(3, user: "admin", token: server.adminToken)
            _ = try await watcher.call("WATCH")
            try await server.withClient { admin in try await EurasiaSection.setUp(admin) }
            try await server.withClient(user: "sec") { admin in
                var ids: [String] = []
                for i in 0..<5 {
                    let item = try await admin.call("ITEM.CREATE", "policy-paper", "Urban heat plan \(i)", "THEME", "sustainability")
                    ids.append(item["id"]?.stringValue ?? "")
                }
                for id in ids { _ = try await admin.call("ITEM.GET", id) }
                _ = try? await admin.call("ITEM.GET", "PP-999999")
                _ = try? await admin.call("NO.SUCH.COMMAND")
            }
            let text = String(decoding: server.admin.metricsExposition(), as: UTF8.self)
            let s = Self.series(text)
            #expect(s[#"docket_commands_total{command="ITEM.CREATE",outcome="ok"}"#] == 5, "\(text)")
            #expect(s[#"docket_commands_total{command="ITEM.GET",outcome="ok"}"#] == 5)
            #expect(s[#"docket_commands_total{command="ITEM.GET",outcome="NOTFOUND"}"#] == 1)
            #expect(s[#"docket_commands_total{command="unknown",outcome="ERR"}"#] == 1)
            #expect(s[#"docket_command_duration_seconds_count{command="ITEM.GET"}"#] == 6)
            #expect(s[#"docket_command_duration_seconds_bucket{command="ITEM.GET",le="+Inf"}"#] == 6)
            #expect(s["docket_watchers_open"] == 1)
            #expect((s["docket_connections_open"] ?? 0) >= 1)
            #expect(s["docket_database_pool_size"] == 20)
            #expect(s["docket_database_operations_in_flight"] == 0)
            #expect(s["docket_timers_fired_total"] != nil)
            #expect(text.contains("# HELP docket_commands_total"))

            let info = try await server.withClient { try await $0.call("INFO").stringValue ?? "" }
            #expect(info.contains("cmdstat_item.create:calls=5,"), "\(info)")
            #expect(info.contains("cmdstat_item.get:calls=6,"), "\(info)")
            #expect(info.contains("failed_calls=1"))
            #expect(info.contains("cmdstat_item.create:calls=5,"))
            #expect(info.contains("watchers:1"))
            print("metrics: \(s.count) series after the load")
        }
    }

    @Test("A pipelined run of PINGs, and an INFO, are counted before the INFO behind them; the histogram is whole")
    func pipelinedRunCounted() async throws {
        try await TestServer.with { server in
            try await server.withClient { admin in
                let replies = try await admin.pipeline(Array(repeating: ["PING"], count: 50) + [["INFO", "commandstats"], ["INFO", "commandstats"]])
                #expect(replies.prefix(50).allSatisfy { $0 == .simpleString("PONG") })
                let info = replies[50].stringValue ?? ""
                #expect(info.contains("cmdstat_ping:calls=50,"), "\(info)")
                // The INFO just before is counted too.
                let second = replies[51].stringValue ?? ""
                #expect(second.contains("cmdstat_info:calls=1,"), "\(second)")
            }
            let text = String(decoding: server.admin.metricsExposition(), as: UTF8.self)
            let s = Self.series(text)
            #expect(s[#"docket_commands_total{command="PING",outcome="ok"}"#] == 50, "\(text)")
            #expect(s[#"docket_command_duration_seconds_count{command="PING"}"#] == 50)
            #expect((s[#"docket_command_duration_seconds_sum{command="PING"}"#] ?? 0) > 0)
            let bounds = ["0.0001", "0.00025", "0.0005", "0.001", "0.002", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5",
                          "1.0", "2.5", "5.0", "10.0", "+Inf"]
            let buckets = bounds.map { s[#"docket_command_duration_seconds_bucket{command="PING",le="\#($0)"}"#] }
            #expect(buckets.allSatisfy { $0 != nil }, "\(text)")
            let counts = buckets.compactMap { $0 }
            #expect(counts == counts.sorted(), "buckets are cumulative: \(counts)")
            #expect(counts.last == 50)
            #expect(text.components(separatedBy: "# TYPE docket_command_duration_seconds histogram").count == 2)
            // Every known command has its series, called or not.
            #expect(s[#"docket_command_duration_seconds_count{command="ITEM.FIRE"}"#] == 0)
        }
    }

    @Test("The HTTP listener: curl /metrics, /health/live; /health/ready is 503 while the database is unreachable")
    func httpEndpoint() async throws {
        let curl = try Tool.require("curl", install: "apt-get install -y curl")
        try await TestServer.with { server in
            _ = try await server.withClient { try await $0.call("ITEM.LIST") }
            try await Self.withMetrics({ MetricsServer(host: "127.0.0.1", port: 0, server: server.admin, logger: Logger(label: "test"), onListening: $0) }) { port in
                let metrics = try await CLI.run(curl, ["-sf", "http://127.0.0.1:\(port)/metrics"])
                #expect(metrics.status == 0)
                #expect(metrics.stdout.contains(#"docket_commands_total{command="ITEM.LIST",outcome="ok"} 1"#), "\(metrics.stdout)")
                #expect(metrics.stdout.contains("docket_command_duration_seconds_bucket"))
                let live = try await CLI.run(curl, ["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/health/live"])
                #expect(live.stdout == "200")
                let ready = try await CLI.run(curl, ["-s", "-w", " %{http_code}", "http://127.0.0.1:\(port)/health/ready"])
                #expect(ready.stdout == "ready\n 200")
                let missing = try await CLI.run(curl, ["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/nope"])
                #expect(missing.stdout == "404")
            }
        }
        struct Down: Error, CustomStringConvertible { var description: String { "database unreachable" } }
        try await Self.withMetrics({ MetricsServer(host: "127.0.0.1", port: 0, metrics: { [] }, ready: { .failure(Down()) },
                                                   logger: Logger(label: "test"), onListening: $0) }) { port in
            let ready = try await CLI.run(curl, ["-s", "-w", " %{http_code}", "http://127.0.0.1:\(port)/health/ready"])
            #expect(ready.stdout == "unavailable: database unreachable\n 503")
        }
    }

    /// Runs a metrics server on port 0 around `body`.
    static func withMetrics(_ make: (@escaping @Sendable (SocketAddress) -> Void) -> MetricsServer,
                            _ body: @Sendable (Int) async throws -> Void) async throws {
        let port = AsyncStream<Int>.makeStream()
        let continuation = port.continuation
        let running = make { continuation.yield($0.port ?? 0) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await running.run() }
            var iterator = port.stream.makeAsyncIterator()
            let bound = try #require(await iterator.next())
            try await body(bound)
            group.cancelAll()
        }
    }
}
