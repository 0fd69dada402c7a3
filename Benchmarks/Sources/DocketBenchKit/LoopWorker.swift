import DocketClient
import DocketWire
import NIOCore
import NIOPosix

/// Starts a `LoopWorker`'s run; sent down its pipeline once every worker is connected.
struct WorkerStart: Sendable {
    var seed: UInt64
    var measureStart: UInt64
    var end: UInt64
}

/// Runs one worker of `ping`, `get` or `fire` entirely on its connection's event loop, as
/// redis-benchmark and pgbench do.
///
/// Through `DocketClient`, every request hops from the event loop to a Swift-concurrency thread
/// and back (a promise, a continuation, a task switch): about 90 µs of CPU per request on a
/// 2-core machine, taken from the server being measured. Here `channelRead` steps over each
/// reply where it arrives (`ReplyReader.skip`) and, when a batch is complete, writes the next
/// one from the same call: no task, continuation or promise per request.
///
/// It first sends `AUTH` and completes `authenticated` on `+OK` (or fails it, and closes). Then
/// it waits for a ``WorkerStart`` user event, runs batches through a ``WorkerLoop`` until the end
/// of the run, completes `result` and closes the connection. If the connection goes down first
/// (dropped, a malformed reply, or no reply `Runner.replyTimeout` after the end of the run), the
/// batch in flight counts as `client` errors and `result` gets what was recorded so far, as a
/// failed `DocketClient` call ends a worker of `Runner.work`. Only used on its event loop.
final class LoopWorker<W: Workload>: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let credentials: Credentials
    private let pipeline: Int
    /// The workload until the run starts; then the loop that owns it.
    private var workload: W?
    private var loop: WorkerLoop<W>?
    /// Pending until AUTH is answered.
    private var authenticated: EventLoopPromise<Void>?
    private let result: EventLoopPromise<Runner.WorkerResult>
    private var done = false
    private var reader = ReplyReader()
    private var outbound = ByteBuffer()
    /// Bounds the wait for the AUTH reply, then for the last batch's replies.
    private var timer: Scheduled<Void>?

    init(credentials: Credentials, workload: W, pipeline: Int,
         authenticated: EventLoopPromise<Void>, result: EventLoopPromise<Runner.WorkerResult>) {
        self.credentials = credentials
        self.workload = workload
        self.pipeline = pipeline
        self.authenticated = authenticated
        self.result = result
    }

    func channelActive(context: ChannelHandlerContext) {
        RESPEncoder.encodeCommand(["AUTH", credentials.user, credentials.token], into: &outbound)
        context.writeAndFlush(wrapOutboundOut(outbound), promise: nil)
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: Runner.replyTimeout) { [self] in
            failAuthentication("no reply in \(Runner.replyTimeout)")
            context.close(promise: nil)
        }
        context.fireChannelActive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let start = event as? WorkerStart else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        guard !done, let workload else { return }
        self.workload = nil
        loop = WorkerLoop(workload: workload, pipeline: pipeline, seed: start.seed, measureStart: start.measureStart, end: start.end)
        let untilEnd = TimeAmount.nanoseconds(Int64(start.end &- min(start.end, Runner.now())))
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: untilEnd + Runner.replyTimeout) {
            context.close(promise: nil)
        }
        sendBatch(context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        reader.append(unwrapInboundIn(data))
        do {
            // The AUTH reply is parsed whole; the run's replies are only skipped over.
            while authenticated != nil {
                guard let reply = try reader.next() else { return }
                authenticate(reply, context: context)
            }
            while let reply = try reader.skip() {
                if loop?.inFlight == true, loop!.received(errorClass: reply.errorClass, at: Runner.now()) {
                    sendBatch(context: context)
                }
            }
        } catch {
            failAuthentication("\(ClientError.protocolError(error.message))")
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        shutDown()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        shutDown()
    }

    private func authenticate(_ reply: RESPValue, context: ChannelHandlerContext) {
        timer?.cancel()
        guard reply == .simpleString("OK") else {
            let reason = if case .error(let line) = reply { line } else { "unexpected reply \(reply)" }
            failAuthentication(reason)
            context.close(promise: nil)
            return
        }
        authenticated?.succeed()
        authenticated = nil
    }

    private func failAuthentication(_ reason: String) {
        authenticated?.fail(BenchError("AUTH as \(credentials.user) failed: \(reason)"))
        authenticated = nil
    }

    /// Writes the next batch, or ends the run once its end has passed.
    private func sendBatch(context: ChannelHandlerContext) {
        outbound.clear()
        if loop!.startBatch(at: Runner.now(), into: &outbound) {
            context.writeAndFlush(wrapOutboundOut(outbound), promise: nil)
        } else {
            complete(loop!.result)
            context.close(promise: nil)
        }
    }

    private func complete(_ value: Runner.WorkerResult) {
        done = true
        timer?.cancel()
        loop = nil
        result.succeed(value)
    }

    /// The connection is down: fails a pending AUTH, and completes the result unless the run had
    /// ended (a connection lost before the run starts counts `pipeline` `client` errors, as its
    /// first batch would). Idempotent.
    private func shutDown() {
        failAuthentication("\(ClientError.connectionClosed)")
        guard !done else { return }
        if var loop {
            loop.failBatch()
            complete(loop.result)
        } else {
            complete(Runner.WorkerResult(errors: ["client": UInt64(pipeline)]))
        }
    }
}

@available(*, unavailable)
extension LoopWorker: Sendable {}

extension Runner {
    /// How long a reply may take (the timeout the `DocketClient` connections have).
    static let replyTimeout = TimeAmount.seconds(60)

    /// A ``LoopWorker``'s connection, authenticated and waiting for its ``WorkerStart``.
    struct LoopConnection: Sendable {
        let channel: any Channel
        /// Completed when the worker is done (never failed: a lost connection counts as errors).
        let result: EventLoopFuture<WorkerResult>
    }

    /// Opens a connection on `group` with a ``LoopWorker`` running `workload`, and waits for its AUTH.
    static func connectLoopWorker<W: Workload>(_ address: ServerAddress, _ credentials: Credentials, workload: W,
                                               pipeline: Int, on group: any EventLoopGroup) async throws -> LoopConnection {
        let eventLoop = group.next()
        let authenticated = eventLoop.makePromise(of: Void.self)
        let result = eventLoop.makePromise(of: WorkerResult.self)
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(replyTimeout)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        LoopWorker(credentials: credentials, workload: workload, pipeline: pipeline,
                                   authenticated: authenticated, result: result))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: address.host, port: address.port).get()
        } catch {
            // The handler may never have been added; completing twice does nothing.
            authenticated.fail(error)
            result.succeed(WorkerResult())
            throw ClientError.connectionFailed(address, "\(error)")
        }
        try await authenticated.futureResult.get()
        return LoopConnection(channel: channel, result: result.futureResult)
    }

    /// Runs `workloads` on ``LoopWorker``s: connects them all, starts the clock, starts them, and
    /// gathers their results.
    func runOnEventLoops(_ workloads: [any Workload], credentials: Credentials) async throws -> (results: [WorkerResult], memory: MemorySummary?) {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: Self.eventLoopThreads)
        do {
            let address = address
            let pipeline = load.pipeline
            let connections = try await Self.inChunks(workloads.count) {
                try await Self.connectLoopWorker(address, credentials, workload: workloads[$0], pipeline: pipeline, on: group)
            }
            let clock = startClock()
            for (w, connection) in connections.enumerated() {
                connection.channel.pipeline.fireUserInboundEventTriggered(
                    WorkerStart(seed: clock.seed(worker: w), measureStart: clock.measureStart, end: clock.end))
            }
            var results: [WorkerResult] = []
            for connection in connections { results.append(try await connection.result.get()) }
            let memory = await clock.memorySummary()
            try await group.shutdownGracefully()
            return (results, memory)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }
}
