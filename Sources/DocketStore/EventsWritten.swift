import NIOConcurrencyHelpers

/// Tells this instance's event sequencer that a command committed events, so it numbers them
/// at once instead of finding them at its next poll. Without it the sequencer polled every
/// 20 ms: five queries a round, 8% of a core on an idle server and 5% of a PostgreSQL
/// backend, taken from every command under load. Now it polls rarely, for what other
/// writers leave (their own instances wake theirs).
public final class EventsWritten: Sendable {
    private struct State {
        /// A signal came while nobody waited: the next wait returns at once.
        var pending = false
        var waiter: Waiter?
        var tickets = 0
    }

    private struct Waiter {
        var ticket: Int
        var continuation: CheckedContinuation<Void, Never>
        /// Ends the wait at its timeout; cancelled when a signal ends it first.
        var timer: Task<Void, Never>
    }

    private let state = NIOLockedValueBox(State())

    public init() {}

    /// Events were committed.
    public func signal() {
        let waiter = state.withLockedValue { s -> Waiter? in
            guard let waiter = s.waiter else {
                s.pending = true
                return nil
            }
            s.waiter = nil
            return waiter
        }
        waiter?.timer.cancel()
        waiter?.continuation.resume()
    }

    /// Returns at the first signal since the last wait (at once if one came meanwhile), after
    /// `timeout`, or when the task is cancelled. One waiter at a time: the sequencer.
    public func wait(upTo timeout: Duration) async {
        let ticket = state.withLockedValue { s -> Int? in
            if s.pending {
                s.pending = false
                return nil
            }
            s.tickets += 1
            return s.tickets
        }
        guard let ticket else { return }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let timer = Task {
                    try? await Task.sleep(for: timeout)
                    self.end(ticket)
                }
                let now = state.withLockedValue { s -> Bool in
                    // Cancelled before this point: the handler found no waiter to end.
                    if s.pending || Task.isCancelled {
                        s.pending = false
                        return true
                    }
                    precondition(s.waiter == nil, "EventsWritten has one waiter at a time")
                    s.waiter = Waiter(ticket: ticket, continuation: continuation, timer: timer)
                    return false
                }
                if now {
                    timer.cancel()
                    continuation.resume()
                }
            }
        } onCancel: {
            self.end(ticket)
        }
    }

    /// Ends wait `ticket` if it is still the one waiting (a late timer of an earlier wait is not).
    private func end(_ ticket: Int) {
        let waiter = state.withLockedValue { s -> Waiter? in
            guard let waiter = s.waiter, waiter.ticket == ticket else { return nil }
            s.waiter = nil
            return waiter
        }
        waiter?.timer.cancel()
        waiter?.continuation.resume()
    }
}
