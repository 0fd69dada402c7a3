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

    public init(store: Store, logger: Logger, interval: Duration = .milliseconds(20)) {
        self.store = store
        self.logger = logger
        self.interval = interval
    }

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
        let start = (try? await store.lastSequence()) ?? 0
        state.withLockedValue { $0.lastSeq = start }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.sequenceLoop() }
            group.addTask { await self.listenLoop() }
            await group.waitForAll()
        }
    }

    func sequenceLoop() async {
        var quietRounds = 0
        while !Task.isCancelled {
            do {
                let n = try await store.sequenceEvents()
                quietRounds = n > 0 ? 0 : quietRounds + 1
                // Without a notification in a while (a lost LISTEN), catch up anyway.
                if quietRounds % 50 == 0 { await catchUp() }
                if n > 0 { continue }
            } catch {
                logger.debug("sequencer: \(error)")
            }
            try? await Task.sleep(for: interval)
        }
    }

    func listenLoop() async {
        let listening = NIOLockedValueBox<PostgresConnection?>(nil)
        while !Task.isCancelled {
            do {
                try await withTaskCancellationHandler {
                    try await store.client.withConnection { connection in
                        listening.withLockedValue { $0 = connection }
                        defer { listening.withLockedValue { $0 = nil } }
                        // Cancelled while the lease was pending: onCancel found no connection to close.
                        try Task.checkCancellation()
                        try await connection.listen(on: "docket_events") { notifications in
                            await self.catchUp()
                            for try await _ in notifications { await self.catchUp() }
                        }
                    }
                } onCancel: {
                    // A LISTEN waits for notifications forever: closing its connection ends it.
                    listening.withLockedValue { $0 }?.close().whenComplete { _ in }
                }
            } catch {
                if Task.isCancelled { return }
                logger.debug("event listener: \(error); retrying")
            }
            try? await Task.sleep(for: .milliseconds(500))
        }
    }

    /// Reads every event after the last one pushed and hands each to the watchers that want it.
    func catchUp() async {
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
                let items = (try? await store.snapshots(Array(Set(events.map(\.item))))) ?? [:]
                for event in events {
                    guard let item = items[event.item] else { continue }
                    let definition = try? await store.definition(item.workflow, version: item.workflowVersion)
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
