import DocketStore
import Foundation
import Logging

/// Fires due reminders and timed transitions as the user `system`, and folds the board's
/// pending counts (`Store.foldBoard`). Every `docket serve` instance runs one; timers are
/// claimed with `FOR UPDATE SKIP LOCKED`, so each fires once. A timer that came due while
/// every instance was down fires at the next start.
public struct Scheduler: Sendable {
    let store: Store
    let clock: any DocketClock
    let interval: Duration
    let logger: Logger
    /// Told how many timers each tick fired (the metrics count them).
    let onFire: @Sendable (Int) -> Void

    public init(store: Store, clock: any DocketClock, interval: Duration = .seconds(1), logger: Logger,
                onFire: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.store = store
        self.clock = clock
        self.interval = interval
        self.logger = logger
        self.onFire = onFire
    }

    /// Fires everything due now; returns what fired.
    @discardableResult
    public func tick() async throws -> [Store.FiredTimer] {
        let fired = try await store.fireDueTimers(now: clock.now())
        onFire(fired.count)
        for f in fired {
            logger.info("timer fired", metadata: ["docket.item": "\(f.item)", "docket.timer": "\(f.kind) \(f.name)",
                                                  "docket.outcome": "\(f.event.map { "\($0.type) v\($0.version)" } ?? f.problem ?? "")"])
        }
        // The board is exact without folding (reports add what is pending), so a fold that
        // fails is only logged; the timers above have fired either way.
        do {
            try await store.foldBoard()
        } catch {
            logger.warning("board fold failed", metadata: ["docket.error": "\(error)"])
        }
        return fired
    }

    /// Ticks every `interval` until cancelled. While the database is away each tick fails
    /// (within the store's timeout): logged once, retried at every tick; timers that came due
    /// meanwhile fire at the first tick after it returns.
    public func run() async {
        let health = OutageLog(logger: logger, what: "scheduler")
        while !Task.isCancelled {
            do {
                try await tick()
                health.succeeded()
            } catch {
                if Task.isCancelled { return }
                health.failed(error)
            }
            try? await Task.sleep(for: interval)
        }
    }
}
