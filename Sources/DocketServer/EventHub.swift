import DocketCore
import DocketStore
import Foundation
import Logging
import NIOConcurrencyHelpers
import PostgresNIO

/// Numbers committed events (the sequencer), hears of new ones through LISTEN/NOTIFY — one
/// notification per sequenced batch, never one per transaction — and pushes them to this
/// instance's watchers, filtered by what each may see.
public final class EventHub: Sendable {
    let store: Store
    let logger: Logger
    let interval: Duration

    struct Subscriber: Sendable {
        var filter: WatchFilter
        var actor: Actor
        var deliver: @Sendable (EventRecord, String) -> Void
    }

    struct State {
        var lastSeq: Int64 = 0
        var subscribers: [Int64: Subscriber] = [:]
    }

    private let state = NIOLockedValueBox(State())
    private let catchingUp = NIOLockedValueBox(false)

    public init(store: Store, logger: Logger, interval: Duration = .milliseconds(100)) {
        self.store = store
        self.logger = logger
        self.interval = interval
    }

    /// The least time between two rounds, unless one numbered a full batch.
    static let pauseBetweenRounds: Duration = .milliseconds(10)
    /// The most events one round numbers.
    static let batch = 10_000

    public var lastSeq: Int64 { state.withLockedValue { $0.lastSeq } }
    public var watcherCount: Int { state.withLockedValue { $0.subscribers.count } }

    func subscribe(_ id: Int64, filter: WatchFilter, actor: Actor, deliver: @escaping @Sendable (EventRecord, String) -> Void) {
        state.withLockedValue { $0.subscribers[id] = Subscriber(filter: filter, actor: actor, deliver: deliver) }
    }

    func unsubscribe(_ id: Int64) {
        _ = state.withLockedValue { $0.subscribers.removeValue(forKey: id) }
    }

    /// Runs until cancelled: the sequencer loop and the LISTEN loop.
    public func run() async {
        // Watchers get what is numbered from now on: wait for the database rather than start
        // from 0 (which would push the whole history to every watcher).
        let health = OutageLog(logger: logger, what: "event hub")
        while !Task.isCancelled {
            do {
                let start = try await store.lastSequence()
                state.withLockedValue { $0.lastSeq = start }
                health.succeeded()
                break
            } catch {
                health.failed(error)
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.sequenceLoop() }
            group.addTask { await self.listenLoop() }
            await group.waitForAll()
        }
    }

    /// Numbers committed events: at once when this instance's commands committed some
    /// (`Store.eventsWritten`), otherwise every `interval`, for what other writers leave (an
    /// event behind an older transaction still running, a crashed instance's). While the
    /// database is away each round fails (within the store's timeout); it logs once, waits a
    /// little longer between rounds, and carries on when the database answers again.
    func sequenceLoop() async {
        var lastCatchUp = ContinuousClock.now
        let health = OutageLog(logger: logger, what: "event sequencer")
        while !Task.isCancelled {
            do {
                let (n, through) = try await store.numberEvents(limit: Self.batch)
                // This instance's watchers get what it numbered without waiting for the
                // notification; and without one in a while (a lost LISTEN), they catch up anyway.
                if health.succeeded() || n > 0 || ContinuousClock.now - lastCatchUp >= .seconds(1) {
                    lastCatchUp = .now
                    await catchUp(numberedThrough: through)
                }
                // A full batch: more are waiting.
                if n >= Self.batch { continue }
            } catch {
                if Task.isCancelled { return }
                health.failed(error)
                try? await Task.sleep(for: .milliseconds(250))
            }
            // Under load a commit has nearly always signalled during the round: without a pause
            // the sequencer would run round after round of one or two events (or none, behind
            // older transactions still running), eight queries each. With it, a round numbers
            // what 10 ms of commands wrote.
            try? await Task.sleep(for: Self.pauseBetweenRounds)
            await store.eventsWritten.wait(upTo: interval)
        }
    }

    /// LISTENs for the sequencer's notifications. When the connection is lost (the database
    /// went away) it logs, waits, and listens again on a new connection once the pool has one;
    /// meanwhile the sequencer's periodic catch-up keeps delivering.
    func listenLoop() async {
        await listenUntilCancelled(store: store, channel: "docket_events", health: OutageLog(logger: logger, what: "event listener"),
                                   listening: { await self.catchUp() }, notified: { await self.catchUp(numberedThrough: Int64($0)) })
    }

    /// Reads every event after the last one pushed and hands each to the watchers that want it.
    /// With no watcher it reads nothing when it knows a number already handed out
    /// (`numberedThrough`, from the sequencer's round or the notification): it moves past that
    /// number. Those events were numbered before this check found no watcher, so a watcher
    /// that subscribes later misses none numbered after it subscribed.
    func catchUp(numberedThrough known: Int64? = nil) async {
        if let known {
            let skipped = state.withLockedValue { state -> Bool in
                guard state.subscribers.isEmpty else { return false }
                state.lastSeq = max(state.lastSeq, known)
                return true
            }
            if skipped { return }
        }
        let already = catchingUp.withLockedValue { busy -> Bool in
            if busy { return true }
            busy = true
            return false
        }
        if already { return }
        defer { catchingUp.withLockedValue { $0 = false } }
        while true {
            let after = lastSeq
            guard let events = try? await store.readEvents(after: after, count: 1000), !events.isEmpty else { return }
            let subscribers = state.withLockedValue { Array($0.subscribers.values) }
            if !subscribers.isEmpty {
                // Everything delivery needs is read before the first event is delivered: if the
                // database goes away in between, nothing is delivered and the batch is read
                // again later (skipping it would lose the events for every watcher, and a
                // missing definition would show items in states hidden from the watcher).
                var definitions: [String: WorkflowDefinition] = [:]
                guard let items = try? await store.snapshots(Array(Set(events.map(\.item)))) else { return }
                for item in items.values where definitions["\(item.workflow)@\(item.workflowVersion)"] == nil {
                    guard let definition = try? await store.definition(item.workflow, version: item.workflowVersion) else { return }
                    definitions["\(item.workflow)@\(item.workflowVersion)"] = definition
                }
                for event in events {
                    guard let item = items[event.item] else { continue }
                    let definition = definitions["\(item.workflow)@\(item.workflowVersion)"]
                    for s in subscribers where Self.matches(s.filter, item) && Engine.canSee(definition, item, actor: s.actor) {
                        s.deliver(event, s.filter.channel)
                    }
                }
            }
            state.withLockedValue { $0.lastSeq = max($0.lastSeq, events.last?.seq ?? after) }
            if events.count < 1000 { return }
        }
    }

    static func matches(_ f: WatchFilter, _ item: ItemSnapshot) -> Bool {
        (f.item.map { $0 == item.id } ?? true) && (f.workflow.map { $0 == item.workflow } ?? true) && (f.theme.map { $0 == item.theme } ?? true)
    }
}

/// Logs a background loop's trouble with the database once when it starts (a warning), and
/// once when it ends (how long it lasted), rather than at every retry; the retries in between
/// are logged at debug level.
final class OutageLog: Sendable {
    private let logger: Logger
    private let what: String
    private let since = NIOLockedValueBox<(ContinuousClock.Instant, Int)?>(nil)

    init(logger: Logger, what: String) {
        self.logger = logger
        self.what = what
    }

    func failed(_ error: any Error) {
        let first = since.withLockedValue { state -> Bool in
            if let (start, n) = state { state = (start, n + 1); return false }
            state = (ContinuousClock.now, 1)
            return true
        }
        if first {
            logger.warning("\(what) cannot reach the database; retrying", metadata: ["docket.error": "\(error)"])
        } else {
            logger.debug("\(what): \(error); retrying")
        }
    }

    /// Returns whether this ends an outage.
    @discardableResult
    func succeeded() -> Bool {
        guard let (start, failures) = since.withLockedValue({ state in defer { state = nil }; return state }) else { return false }
        logger.notice("\(what) reaches the database again", metadata: ["docket.outage": "\(ContinuousClock.now - start)", "docket.failures": "\(failures)"])
        return true
    }
}
