import NIOCore
import NIOPosix

/// Runs a task's jobs on one event loop. A command a session starts on its loop runs there
/// from start to reply: its queries go out and their answers come back on that thread, with no
/// hand-off to the cooperative pool and back between each step.
public final class EventLoopExecutor: TaskExecutor {
    public let loop: any EventLoop

    private init(_ loop: any EventLoop) {
        self.loop = loop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        loop.execute { job.runSynchronously(on: executor) }
    }

    private static let executors = PerLoop<EventLoopExecutor>()

    /// The executor of `loop`, one per loop.
    public static func on(_ loop: any EventLoop) -> EventLoopExecutor {
        // The registry is never closed, so there always is one.
        executors.value(on: loop, make: EventLoopExecutor.init)!
    }

    /// The executor of the event loop this thread runs, if it runs one.
    public static var current: EventLoopExecutor? {
        MultiThreadedEventLoopGroup.currentEventLoop.map(on)
    }
}
