import DocketClient
import DocketStore
import DocketTestSupport
import DocketWire
import Foundation
import Testing

/// Two real `docket serve` processes on one database: they share the load, a transition
/// through one is visible through the other at once (ITEM.GET and a WATCH push), and stopping
/// one with SIGTERM in the middle of the load loses no acknowledged fire.
@Suite("Several instances: two docket serve on one database", .serialized, .timeLimit(.minutes(10)))
struct MultiInstanceTests {
    actor Acks {
        var byInstance = [0, 0]
        var acked: [String: (item: String, version: Int, hash: String)] = [:]
        var unanswered: [(key: String, item: String, transition: String)] = []
        func ack(_ instance: Int, key: String, item: String, version: Int, hash: String) {
            byInstance[instance] += 1
            acked[key] = (item, version, hash)
        }
        func lost(_ key: String, item: String, transition: String) { unanswered.append((key, item, transition)) }
    }

    @Test("shared load, visibility across instances at once, SIGTERM of one loses nothing")
    func twoInstances() async throws {
        try await TestDatabase.withDatabase { url in
            try await withProcessScratch { scratch in
                let data = scratch + "/data"
                let a = try await ProcessServer.start(database: url, dataDirectory: data, scratch: scratch)
                defer { a.stop() }
                let b = try await ProcessServer.start(database: url, dataDirectory: data, scratch: scratch)
                defer { b.stop() }
                #expect(a.port != b.port)

                let adminA = try await a.admin()
                let adminB = try await b.admin()
                try await adminA.call("WORKFLOW.LOAD", processLoopYAML)
                var ids: [String] = []
                for i in 1...6 {
                    // Created alternately through each instance.
                    let through = i % 2 == 0 ? adminA : adminB
                    ids.append(try #require(try await through.call("ITEM.CREATE", "crashloop", "Shared item \(i)")["id"]?.stringValue))
                }

                // A transition through A: ITEM.GET through B shows it right away, and B's watcher gets the push.
                let watcher = try await b.admin(resp3: true)
                let subscribed = try await watcher.call("WATCH", "WORKFLOW", "crashloop")
                #expect(subscribed.arrayValue?.first?.stringValue == "watch")
                var latencies: [Double] = []
                let pushes = ProcessPushCollector(watcher)
                for n in 1...5 {
                    let id = ids[n % ids.count]
                    let started = ContinuousClock.now
                    let fired = try await adminA.call("ITEM.FIRE", id, "flip", "KEY", "visible-\(n)")
                    let version = try #require(fired["version"]?.intValue)
                    let seen = try await adminB.call("ITEM.GET", id)
                    #expect(seen["version"]?.intValue == version, "B shows \(id) at v\(seen["version"]?.intValue ?? -1) right after A fired v\(version)")
                    #expect(seen["state"]?.stringValue == fired["to"]?.stringValue)
                    // The push for that event, within a generous deadline.
                    let pushed = await pushes.wait(timeout: .seconds(10)) { $0.contains { $0["item"]?.stringValue == id && $0["version"]?.intValue == version } }
                    #expect(pushed, "no WATCH push on B for \(id) v\(version) within 10 s")
                    latencies.append(processMilliseconds(ContinuousClock.now - started))
                }

                // Shared load: clients on both instances; A is stopped with SIGTERM in the middle.
                // A's clients go on until A closes their connections, B's until A has exited.
                let acks = Acks()
                let servers = [a, b]
                let itemIDs = ids
                let aExited = ProcessFlag()
                let load = Task {
                    await withTaskGroup(of: Void.self) { group in
                        for c in 0..<6 {
                            let instance = c % 2
                            group.addTask {
                                guard let client = try? await servers[instance].admin() else { return }
                                var n = 0
                                let cap = ContinuousClock.now + .seconds(20)
                                while ContinuousClock.now < cap {
                                    if instance == 1, await aExited.isSet { break }
                                    n += 1
                                    let key = "load-\(c)-\(n)"
                                    let item = itemIDs.randomElement()!
                                    let transition = Bool.random() ? "touch" : "flip"
                                    do {
                                        let e = try await client.call("ITEM.FIRE", item, transition, "KEY", key)
                                        await acks.ack(instance, key: key, item: item, version: e["version"]?.intValue ?? -1, hash: e["hash"]?.stringValue ?? "")
                                    } catch {
                                        await acks.lost(key, item: item, transition: transition)
                                        break
                                    }
                                }
                                await client.close()
                            }
                        }
                    }
                }
                try await Task.sleep(for: .milliseconds(1500))
                let beforeStop = await acks.byInstance
                let sigterm = ContinuousClock.now
                a.signal(SIGTERM)
                let status = try await a.waitForExit(timeout: .seconds(30))
                let stopSeconds = processMilliseconds(ContinuousClock.now - sigterm) / 1000
                #expect(status == 0, "A exited with \(status.map(String.init) ?? "none"); stderr:\n\(a.stderr.suffix(2000))")
                try await Task.sleep(for: .milliseconds(500))
                await aExited.set()
                await load.value
                let perInstance = await acks.byInstance
                #expect(beforeStop[0] > 0 && beforeStop[1] > 0, "both instances answered fires: \(beforeStop)")
                #expect(perInstance[1] > beforeStop[1], "B went on answering after A stopped")

                // Nothing acknowledged is missing; the unanswered ones, retried on B with their keys, give one event each.
                let unanswered = await acks.unanswered
                let acked = await acks.acked
                for u in unanswered where u.key.hasPrefix("load-") {
                    let e = try await adminB.call("ITEM.FIRE", u.item, u.transition, "KEY", u.key)
                    #expect(e["item"]?.stringValue == u.item)
                }
                var transitions = 0
                var histories: [String: [RESPValue]] = [:]
                for id in ids {
                    let history = try await processCheckReplay(adminB, id)
                    histories[id] = history
                    transitions += history.filter { $0["type"]?.stringValue == "transition" }.count
                }
                var missing = 0
                for (key, fire) in acked {
                    let found = histories[fire.item]?.contains { $0["version"]?.intValue == fire.version && $0["hash"]?.stringValue == fire.hash } ?? false
                    if !found { missing += 1; Issue.record("acknowledged fire \(key) (\(fire.item) v\(fire.version)) is not in the history") }
                }
                #expect(missing == 0)
                let keyed = acked.count + unanswered.count + 5
                #expect(transitions == keyed, "\(transitions) transition events for \(keyed) keys")
                let audit = try await adminB.call("AUDIT.VERIFY")
                #expect(audit["ok"]?.boolValue == true, "\(audit)")

                // B's watcher saw every event, A's and B's alike, in order and once each.
                let total = ids.count + transitions
                let expected = transitions
                _ = await pushes.wait(timeout: .seconds(15)) { $0.filter { $0["type"]?.stringValue == "transition" }.count >= expected }
                let events = await pushes.events.filter { $0["type"]?.stringValue == "transition" }
                let pushed = Set(events.map { "\($0["item"]?.stringValue ?? "")@\($0["version"]?.intValue ?? -1)" })
                let seqs = events.compactMap { $0["seq"]?.intValue }
                #expect(pushed.count == transitions && events.count == transitions, "B's watcher got \(events.count) pushes, \(pushed.count) distinct, of \(transitions) transition events")
                #expect(seqs == seqs.sorted() && Set(seqs).count == seqs.count, "pushes out of seq order or repeated")
                await watcher.close()
                await adminA.close()
                await adminB.close()
                print("instances: fires acknowledged by A \(perInstance[0]) (\(perInstance[0] - beforeStop[0]) after its SIGTERM; it exited \(String(format: "%.1f", stopSeconds)) s after), by B \(perInstance[1]); unanswered at A's SIGTERM \(unanswered.count) (retried on B); acknowledged missing \(missing); events \(total); watch latency across instances ms \(latencies.map { String(format: "%.1f", $0) }.joined(separator: " ")); B's watcher saw \(pushed.count) transition events")
                b.signal(SIGTERM)
                #expect(try await b.waitForExit(timeout: .seconds(30)) == 0)
            }
        }
    }
}

/// A flag tasks can wait on.
actor ProcessFlag {
    private(set) var isSet = false
    func set() { isSet = true }
}

/// Collects the events a watching client is pushed.
actor ProcessPushCollector {
    private(set) var events: [RESPValue] = []
    private var task: Task<Void, Never>?

    init(_ client: DocketClient) {
        let stream = client.pushes
        Task { await self.start(stream) }
    }

    private func start(_ stream: AsyncStream<RESPValue>) {
        task = Task { for await push in stream { if let e = push.arrayValue?.last { self.add(e) } } }
    }

    private func add(_ event: RESPValue) { events.append(event) }

    /// Waits until `done(events)` holds; false if it still does not after `timeout`.
    func wait(timeout: Duration, _ done: @Sendable ([RESPValue]) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if done(events) { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return done(events)
    }
}

func processMilliseconds(_ d: Duration) -> Double {
    Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
}
