import DocketClient
import DocketStore
import DocketTestSupport
import DocketWire
import Foundation
import Testing

/// `kill -9` of `docket serve` in the middle of a load of fires with idempotency keys, again
/// and again. After each restart: every item's state and version are those its events replay
/// to, every hash chain verifies, and the client's retries with the keys it never saw answered
/// produce exactly one event each (and a retry of an answered key returns that same event).
///
/// The server runs on a database of the test cluster (`--database-url`), so PostgreSQL outlives
/// the kills. `DOCKET_CRASH_KILLS` sets the number of kills (10 by default; e.g. 100 for a long
/// run), `DOCKET_CRASH_CLIENTS` the number of concurrent clients (4).
@Suite("Crash: kill -9 of docket serve under keyed fires", .serialized, .timeLimit(.minutes(10)))
struct CrashRecoveryTests {
    /// What the client sent: every key, its item and transition, and the event it got back.
    actor Ledger {
        struct Fire: Sendable {
            var item: String
            var transition: String
            var version: Int?
            var hash: String?
        }
        var fires: [String: Fire] = [:]
        var order: [String] = []

        func sent(_ key: String, item: String, transition: String) {
            fires[key] = Fire(item: item, transition: transition)
            order.append(key)
        }

        func answered(_ key: String, version: Int?, hash: String?) {
            fires[key]?.version = version
            fires[key]?.hash = hash
        }

        var unanswered: [(key: String, fire: Fire)] { order.compactMap { k in fires[k].flatMap { $0.hash == nil ? (k, $0) : nil } } }
        var answeredKeys: [(key: String, fire: Fire)] { order.compactMap { k in fires[k].flatMap { $0.hash != nil ? (k, $0) : nil } } }
        func keys(for item: String) -> [Fire] { fires.values.filter { $0.item == item } }
        var count: Int { fires.count }
    }

    static var kills: Int { ProcessInfo.processInfo.environment["DOCKET_CRASH_KILLS"].flatMap(Int.init) ?? 10 }
    static var clients: Int { ProcessInfo.processInfo.environment["DOCKET_CRASH_CLIENTS"].flatMap(Int.init) ?? 4 }

    @Test("kill -9 during keyed fires: state = replay, chains verify, retried keys give one event each")
    func killNineUnderLoad() async throws {
        let kills = Self.kills
        let clientCount = Self.clients
        try await TestDatabase.withDatabase { url in
            try await withProcessScratch { scratch in
                let data = scratch + "/data"
                var server = try await ProcessServer.start(database: url, dataDirectory: data, scratch: scratch)
                defer { server.stop() }
                let ids: [String] = try await {
                    let admin = try await server.admin()
                    defer { Task { await admin.close() } }
                    try await admin.call("WORKFLOW.LOAD", processLoopYAML)
                    var ids: [String] = []
                    for i in 1...8 {
                        let item = try await admin.call("ITEM.CREATE", "crashloop", "Crash loop item \(i)")
                        ids.append(try #require(item["id"]?.stringValue))
                    }
                    return ids
                }()
                let ledger = Ledger()
                var survived = 0
                var inFlightAtKill = 0
                var appliedBeforeKill = 0
                var replayedAnswered = 0

                for round in 1...kills {
                    // A load of keyed fires from several clients...
                    let running = server
                    let load = Task {
                        await withTaskGroup(of: Void.self) { group in
                            for c in 0..<clientCount {
                                group.addTask {
                                    guard let client = try? await running.admin(timeout: .seconds(20)) else { return }
                                    var n = 0
                                    while !Task.isCancelled {
                                        n += 1
                                        let key = "r\(round)-c\(c)-\(n)"
                                        let item = ids.randomElement()!
                                        let transition = Bool.random() ? "touch" : "flip"
                                        await ledger.sent(key, item: item, transition: transition)
                                        do {
                                            let event = try await client.call("ITEM.FIRE", item, transition, "KEY", key)
                                            await ledger.answered(key, version: event["version"]?.intValue, hash: event["hash"]?.stringValue)
                                        } catch is ServerError {
                                            // An error reply is an answer too, but none is expected here.
                                            Issue.record("ITEM.FIRE \(item) \(transition) KEY \(key) answered an error")
                                            break
                                        } catch {
                                            break  // the server died under us: this key stays unanswered
                                        }
                                    }
                                    await client.close()
                                }
                            }
                        }
                    }
                    // ...killed at a random moment.
                    try await Task.sleep(for: .milliseconds(Int.random(in: 400...1500)))
                    await server.kill9()
                    #expect(server.exitStatus == 128 + SIGKILL, "round \(round): exit status \(server.exitStatus.map(String.init) ?? "none")")
                    let clientsDone = Task { await load.value }
                    try await Task.sleep(for: .milliseconds(50))
                    load.cancel()
                    await clientsDone.value

                    // Restart on the same database and data directory.
                    server = try await ProcessServer.start(database: url, dataDirectory: data, scratch: scratch)
                    survived += 1
                    let admin = try await server.admin()
                    // Versions before any retry.
                    var before: [String: Int] = [:]
                    for id in ids { before[id] = try await admin.call("ITEM.GET", id)["version"]?.intValue ?? 0 }

                    // The client retries every fire it never saw answered, with the same key.
                    let unanswered = await ledger.unanswered
                    inFlightAtKill += unanswered.count
                    for (key, fire) in unanswered {
                        let event = try await admin.call("ITEM.FIRE", fire.item, fire.transition, "KEY", key)
                        let version = try #require(event["version"]?.intValue)
                        if version <= before[fire.item] ?? 0 { appliedBeforeKill += 1 }
                        #expect(event["item"]?.stringValue == fire.item)
                        await ledger.answered(key, version: version, hash: event["hash"]?.stringValue)
                    }
                    // A retry of an answered key returns the same event, and appends nothing.
                    let answered = await ledger.answeredKeys
                    for (key, fire) in answered.shuffled().prefix(20) {
                        let event = try await admin.call("ITEM.FIRE", fire.item, fire.transition, "KEY", key)
                        #expect(event["version"]?.intValue == fire.version && event["hash"]?.stringValue == fire.hash,
                                "round \(round): retry of \(key) answered v\(event["version"]?.intValue ?? -1), first answer v\(fire.version ?? -1)")
                        replayedAnswered += 1
                    }

                    // Every item: state and version replay from its events; one transition event per key.
                    for id in ids {
                        let history = try await processCheckReplay(admin, id)
                        let transitions = history.filter { $0["type"]?.stringValue == "transition" }
                        let fires = await ledger.keys(for: id)
                        #expect(transitions.count == fires.count, "round \(round): \(id) has \(transitions.count) transition events for \(fires.count) keys")
                        let versions = Set(fires.compactMap(\.version))
                        #expect(versions.count == fires.count, "round \(round): \(id): two keys share an event")
                        #expect(versions == Set(transitions.compactMap { $0["version"]?.intValue }), "round \(round): \(id): the keys' events are not the history's")
                        for event in transitions {
                            if let v = event["version"]?.intValue, let fire = fires.first(where: { $0.version == v }) {
                                #expect(event["hash"]?.stringValue == fire.hash && event["transition"]?.stringValue == fire.transition, "\(id) v\(v)")
                            }
                        }
                    }
                    let audit = try await admin.call("AUDIT.VERIFY")
                    #expect(audit["ok"]?.boolValue == true, "round \(round): \(audit)")
                    #expect(audit["items"]?.intValue == ids.count)
                    await admin.close()
                }

                let total = await ledger.count
                let events = try await { () async throws -> Int in
                    let admin = try await server.admin()
                    defer { Task { await admin.close() } }
                    return try await admin.call("AUDIT.VERIFY")["events"]?.intValue ?? 0
                }()
                #expect(events == total + ids.count, "\(events) events for \(total) keyed fires and \(ids.count) creations")
                #expect(survived == kills)
                #expect(total > kills, "the load fired too little to mean anything: \(total)")
                print("crash: kills survived \(survived) of \(kills); fires checked \(total) (\(clientCount) clients, \(ids.count) items); in flight at a kill \(inFlightAtKill), of which applied before the kill \(appliedBeforeKill); answered keys replayed \(replayedAnswered); events \(events), chains verify")
                server.signal(SIGTERM)
                _ = try await server.waitForExit(timeout: .seconds(30))
            }
        }
    }
}
