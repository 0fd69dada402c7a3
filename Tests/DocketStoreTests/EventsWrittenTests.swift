@testable import DocketStore
import Testing

/// The sequencer's wake-up: a signal ends a wait at once, and is kept for the next wait when
/// it comes first; without one, a wait ends at its timeout. Waits that only a signal can end
/// have an hour's timeout: if the signal did not end them, the suite's time limit would.
/// Nothing here bounds how fast anything runs; only timeouts are checked, from below.
@Suite("EventsWritten: waking the sequencer", .timeLimit(.minutes(1)))
struct EventsWrittenTests {
    /// How long a wait lasted.
    static func timed(_ signal: EventsWritten, upTo timeout: Duration) async -> Duration {
        let started = ContinuousClock.now
        await signal.wait(upTo: timeout)
        return ContinuousClock.now - started
    }

    @Test("a signal given before the wait is kept: the wait returns at once")
    func signalFirst() async {
        let signal = EventsWritten()
        signal.signal()
        signal.signal()
        await signal.wait(upTo: .seconds(3600))
        // Two signals before one wait are one wake-up: the next wait runs to its timeout.
        #expect(await Self.timed(signal, upTo: .milliseconds(200)) >= .milliseconds(200))
    }

    @Test("a signal during the wait ends it")
    func signalDuring() async {
        let signal = EventsWritten()
        async let waited: Void = signal.wait(upTo: .seconds(3600))
        try? await Task.sleep(for: .milliseconds(50))
        signal.signal()
        await waited
    }

    @Test("without a signal the wait ends at its timeout, and a late timer does not end the next wait")
    func timeout() async {
        let signal = EventsWritten()
        #expect(await Self.timed(signal, upTo: .milliseconds(100)) >= .milliseconds(100))
        // Woken early by a signal: should the first wait's timer still fire later, it must not
        // end the second wait, which has a ticket of its own.
        async let first: Void = signal.wait(upTo: .milliseconds(300))
        try? await Task.sleep(for: .milliseconds(20))
        signal.signal()
        await first
        #expect(await Self.timed(signal, upTo: .seconds(1)) >= .seconds(1))
    }

    @Test("cancelling the waiting task ends the wait")
    func cancelled() async {
        let signal = EventsWritten()
        let waiter = Task { await signal.wait(upTo: .seconds(3600)) }
        try? await Task.sleep(for: .milliseconds(50))
        waiter.cancel()
        await waiter.value
        // Cancelled before it waits: it does not wait at all.
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            await signal.wait(upTo: .seconds(3600))
        }
        await early.value
    }
}
