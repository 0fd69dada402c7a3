import DocketCore
import DocketStore
import DocketWire
import Foundation
import Logging
import NIOCore

/// Sent to every session when the server shuts down.
struct DrainEvent {}

/// One connection: parses its requests, answers them in order (pipelining included), runs
/// database commands off the event loop one at a time, and holds back reading while too much
/// is queued.
///
/// It parses the bytes itself rather than behind a `ByteToMessageHandler`: a pipelined batch of
/// small commands then costs no wrapping and unwrapping of each request on its way between two
/// handlers, which profiles of `redis-benchmark -P 16` showed as a tenth of the server's time.
final class SessionHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let maxQueued = 1024

    let router: CommandRouter
    /// Splits the received bytes into requests, under the limits (the pre-auth ones until AUTH).
    var parser: RESPRequestParser
    /// Received bytes the parser has not consumed yet.
    var inbound = ByteBuffer()
    let registry: SessionRegistry
    let logger: Logger
    /// The logger's level, read once: checked for every command.
    let logLevel: Logger.Level
    var session: SessionInfo
    /// Requests waiting behind a busy command, with when they were read.
    var queue = CircularBuffer<(request: [ByteBuffer], readAt: ContinuousClock.Instant)>()
    var busy = false
    var readHeld = false
    var closing = false
    var context: ChannelHandlerContext?
    var rejected = false
    /// A protocol error that arrived behind requests still being answered: sent (and the
    /// connection closed) once they are, so replies stay in order.
    var pendingProtocolError: RESPProtocolError?
    /// The command being answered, for metrics and logs: its name, request id and start.
    var current: (name: String, request: Int, started: ContinuousClock.Instant)?
    var requests = 0
    /// Successful answers of the command now repeating, for its meter: handed over when another
    /// command comes, and before replies are flushed (so whoever sees a reply sees it counted).
    var tally = ServerMetrics.Tally()
    var closeAfterReply = false
    /// Replies encoded but not yet handed to the channel.
    var pending: ByteBuffer?
    /// Output handed to the channel (`emit`) and not flushed yet.
    var unflushed = false
    /// A watcher's token is being checked again after a directory change.
    var watcherRecheck = false
    /// Events held while that check runs: sent if the token still works, dropped if not.
    var heldPushes: [(EventRecord, String)] = []
    /// The client shut down its sending side: answer what it sent, then close.
    var inputClosed = false
    /// The server is shutting down: read nothing more, answer what was received, close.
    var draining = false

    init(router: CommandRouter, limits: RESPLimits, registry: SessionRegistry, id: Int64, address: String, logger: Logger) {
        self.router = router
        self.parser = RESPRequestParser(limits: limits)
        self.registry = registry
        self.logger = logger
        self.logLevel = logger.logLevel
        self.session = SessionInfo(id: id, address: address)
    }

    var stats: ServerStats { router.services.stats }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func channelActive(context: ChannelHandlerContext) {
        let accepted = registry.add(session.id, channel: context.channel, limit: router.services.configuration.maxConnections)
        stats.update { s in
            s.connectionsTotal += 1
            if accepted { s.connected += 1 } else { s.rejectedConnections += 1 }
        }
        if !accepted {
            rejected = true
            closing = true
            write(.error("ERR max number of clients reached"), context: context)
            emit(context: context)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(channel.allocator.buffer(capacity: 0))).whenComplete { _ in channel.close(promise: nil) }
            return
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        tally.flush()
        if !rejected {
            registry.remove(session.id)
            stats.update { $0.connected -= 1 }
        }
        if session.watching != nil {
            router.services.hub.unsubscribe(session.id)
            stats.update { $0.watchers -= 1 }
        }
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing, pendingProtocolError == nil else { return }
        let readAt = ContinuousClock.now
        var received = unwrapInboundIn(data)
        if inbound.readableBytes == 0 {
            inbound = received
        } else {
            inbound.writeBuffer(&received)
        }
        parseRequests(readAt: readAt, context: context)
    }

    /// Parses every complete request received: runs each at once while nothing is ahead of
    /// it, queues it otherwise. A request runs before the next one is parsed, so a successful
    /// synchronous AUTH lifts the pre-auth limits for the very next request.
    /// `readAt` is when the bytes were read, each command's start for its duration metric.
    func parseRequests(readAt: ContinuousClock.Instant, context: ChannelHandlerContext) {
        do {
            while !closing, let request = try parser.next(&inbound) {
                if !busy, queue.isEmpty {
                    run(request, started: readAt, context: context)
                } else {
                    queue.append((request, readAt))
                }
            }
        } catch {
            protocolError(error, context: context)
            return
        }
        if inbound.readableBytes == 0 {
            // Let go of the storage: queued requests may still hold slices of it.
            inbound = ByteBuffer()
        } else if inbound.readerIndex >= 64 * 1024 {
            inbound.discardReadBytes()
        }
        closeIfDone(context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushOut(context: context)
        context.fireChannelReadComplete()
    }

    func read(context: ChannelHandlerContext) {
        if draining {
            readHeld = true
        } else if queue.count >= Self.maxQueued || busy && queue.count > 16 || pendingProtocolError != nil {
            readHeld = true
        } else {
            context.read()
        }
    }

    /// Malformed bytes: answered once the requests before them are, then the connection closes.
    func protocolError(_ error: RESPProtocolError, context: ChannelHandlerContext) {
        if busy || !queue.isEmpty {
            // E.g. AUTH (answered asynchronously) pipelined with a request over the
            // pre-auth limits: answer AUTH and what is queued first, then the error.
            pendingProtocolError = error
            return
        }
        failProtocol(error, context: context)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is IOError || error is ChannelError {
            context.close(promise: nil)
            return
        }
        logger.debug("connection error", metadata: ["docket.client": "\(session.id)", "docket.error": "\(error)"])
        context.close(promise: nil)
    }

    /// Answers a protocol error (nothing for an HTTP request) and closes the connection.
    func failProtocol(_ error: RESPProtocolError, context: ChannelHandlerContext) {
        closing = true
        if error.kind == .httpRequest {
            context.close(promise: nil)
            return
        }
        stats.update { $0.errors += 1 }
        logger.debug("protocol error", metadata: ["docket.client": "\(session.id)", "docket.error": "\(error.message)"])
        var buffer = context.channel.allocator.buffer(capacity: 64)
        RESPEncoder.encode(.error(error.reply), as: session.version, into: &buffer)
        emit(context: context)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in channel.close(promise: nil) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is DrainEvent {
            draining = true
            closeIfDone(context: context)
            return
        }
        if let event = event as? ChannelEvent, event == .inputClosed {
            inputClosed = true
            closeIfDone(context: context)
            return
        }
        if event is IdleStateHandler.IdleStateEvent, !busy, session.watching == nil {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: commands

    func drain(context: ChannelHandlerContext) {
        while !busy, !closing, let (request, readAt) = queue.popFirst() {
            run(request, started: readAt, context: context)
        }
        if !busy, !closing, queue.isEmpty, let error = pendingProtocolError {
            pendingProtocolError = nil
            failProtocol(error, context: context)
            return
        }
        closeIfDone(context: context)
        if readHeld, !closing, !draining, queue.count < Self.maxQueued / 2, !busy || queue.count <= 16 {
            readHeld = false
            context.read()
        }
    }

    func run(_ request: [ByteBuffer], started: ContinuousClock.Instant, context: ChannelHandlerContext) {
        requests += 1
        // ECHO answers its argument byte for byte, UTF-8 or not: `redis-cli --pipe` ends its
        // stream with ECHO of 20 random bytes and waits to read them back. The router still
        // checks authentication and the RESP2 watching rules.
        if request.count == 2, request[0].readableBytes == 4,
           String(decoding: request[0].readableBytesView, as: UTF8.self).uppercased() == "ECHO" {
            current = ("ECHO", requests, started)
            if case let .reply(.error(message), _) = router.route(CommandRouter.resolve(first: "ECHO", rest: [""]), session: session) {
                answer(.error(message), context: context)
            } else {
                answer(.bulkString(request[1]), context: context)
            }
            return
        }
        guard let first = request[0].utf8String() else {
            current = ("unknown", requests, started)
            answer(.error("INVALID argument 1 is not valid UTF-8"), context: context)
            return
        }
        var rest: [String] = []
        if request.count > 1 {
            rest.reserveCapacity(request.count - 1)
            for i in 1..<request.count {
                guard let word = request[i].utf8String() else {
                    current = (CommandRouter.resolve(first: first, rest: rest).metricName, requests, started)
                    answer(.error("INVALID argument \(i + 1) is not valid UTF-8"), context: context)
                    return
                }
                rest.append(word)
            }
        }
        let resolved = CommandRouter.resolve(first: first, rest: rest)
        current = (resolved.metricName, requests, started)
        // A command that reads the meters (INFO) sees every command before it counted.
        if tally.meter?.name != resolved.metricName || resolved.name == "INFO" { tally.flush() }
        switch router.route(resolved, session: session) {
        case let .reply(value, updates):
            apply(updates, context: context)
            answer(value, context: context)
        case let .close(value):
            answer(value, context: context)
            closeNow(context: context)
        case let .later(body):
            runLater(body, onLoop: resolved.entry?.runsOnLoop ?? false, context: context)
        case let .onLoop(start, fallback):
            let metrics = router.services.metrics
            // The answer comes later, on this loop: never within `start`.
            let started = start(context.eventLoop) { result in
                metrics.databaseOperation(started: false)
                switch result {
                case let .success(answer):
                    self.finish(answer, [])
                case .failure(is NeedsPooledRead):
                    guard let context = self.context else { return }
                    self.runLater(fallback, context: context)
                case let .failure(error):
                    self.finish(.value(Reply.error(error)), [])
                }
            }
            guard started else {
                runLater(fallback, context: context)
                return
            }
            busy = true
            metrics.databaseOperation(started: true)
        }
    }

    /// Runs `body` in a task, and answers when it is done. `onLoop`, the task runs on this
    /// event loop, and its queries are sent and answered on this thread too
    /// (`EventLoopExecutor`, `LoopPools`); otherwise on the cooperative pool
    /// (`CommandRouter.offLoop`).
    func runLater(_ body: @escaping @Sendable () async -> (RESPValue, [SessionUpdate]), onLoop: Bool = true, context: ChannelHandlerContext) {
        busy = true
        let loop = context.eventLoop
        let bound = NIOLoopBound(self, eventLoop: loop)
        Task(executorPreference: onLoop ? EventLoopExecutor.on(loop) : nil) {
            let (value, updates) = await body()
            if loop.inEventLoop {
                bound.value.finish(.value(value), updates)
            } else {
                loop.execute { bound.value.finish(.value(value), updates) }
            }
        }
    }

    func finish(_ reply: Answer, _ updates: [SessionUpdate]) {
        guard let context else { return }
        busy = false
        apply(updates, context: context)
        answer(reply, context: context)
        flushOut(context: context)
        if closing { return }
        drain(context: context)
        flushOut(context: context)
    }

    /// Writes a command's reply, records its metrics, and closes when the command asked to.
    func answer(_ value: RESPValue, context: ChannelHandlerContext) {
        answer(.value(value), context: context)
    }

    func answer(_ reply: Answer, context: ChannelHandlerContext) {
        write(reply, context: context)
        if let (name, request, started) = current {
            current = nil
            let elapsed = ContinuousClock.now - started
            var (outcome, message) = ("ok", "")
            if case let .value(.error(text)) = reply { (outcome, message) = (String(text.prefix { $0 != " " }), text) }
            if tally.meter?.name != name {
                tally.flush()
                tally.meter = router.services.metrics.meter(name)
            }
            if outcome == "ok" {
                tally.add(elapsed)
            } else {
                tally.meter!.record(outcome: outcome, duration: elapsed)
            }
            if outcome == "UNAVAILABLE" || outcome == "ERR" && name != "unknown" && logLevel <= .info {
                logger.info("command failed", metadata: ["docket.request": "\(session.id)-\(request)", "docket.command": "\(name)",
                                                         "docket.user": "\(session.actor?.handle ?? "-")", "docket.outcome": "\(outcome)",
                                                         "docket.error": "\(message)"])
            } else if logLevel <= .debug {
                logger.debug("command", metadata: ["docket.request": "\(session.id)-\(request)", "docket.command": "\(name)",
                                                   "docket.user": "\(session.actor?.handle ?? "-")", "docket.outcome": "\(outcome)",
                                                   "docket.us": "\(elapsed.microseconds)"])
            }
        }
        if closeAfterReply { closeNow(context: context) }
    }

    /// After the client's half-close, closes once every request it sent is answered.
    func closeIfDone(context: ChannelHandlerContext) {
        if inputClosed || draining, !closing, !busy, queue.isEmpty, pendingProtocolError == nil { closeNow(context: context) }
    }

    /// Flushes what is written, then closes.
    func closeNow(context: ChannelHandlerContext) {
        closing = true
        let channel = context.channel
        emit(context: context)
        context.writeAndFlush(wrapOutboundOut(channel.allocator.buffer(capacity: 0))).whenComplete { _ in channel.close(promise: nil) }
    }

    /// Encodes a reply into the pending output: the replies to a pipelined batch go out as one
    /// write when it is flushed, not one write each.
    func write(_ value: RESPValue, context: ChannelHandlerContext) {
        write(.value(value), context: context)
    }

    func write(_ reply: Answer, context: ChannelHandlerContext) {
        if pending == nil {
            // An item's reply is 500-600 bytes: room for one without growing the buffer twice.
            // Under 1 KiB, where glibc's per-thread cache still serves the allocation (1 KiB for
            // every reply made PING 5-10% dearer). Handed to the channel at each flush, so this
            // holds no idle memory.
            let capacity = if case .item = reply { 768 } else { 256 }
            pending = context.channel.allocator.buffer(capacity: capacity)
        }
        switch reply {
        case let .value(value):
            if case .error = value { stats.update { $0.errors += 1 } }
            RESPEncoder.encode(value, as: session.version, into: &pending!)
        case let .item(item, definition):
            Reply.writeItem(item, definition, as: session.version, into: &pending!)
        }
        if pending!.readableBytes >= 64 * 1024 { emit(context: context) }
    }

    /// Hands the pending output to the channel (without flushing).
    func emit(context: ChannelHandlerContext) {
        tally.flush()
        guard let buffer = pending else { return }
        pending = nil
        context.write(wrapOutboundOut(buffer), promise: nil)
        unflushed = true
    }

    /// Writes and flushes the pending output; no flush when nothing was written since the last.
    func flushOut(context: ChannelHandlerContext) {
        emit(context: context)
        guard unflushed else { return }
        unflushed = false
        context.flush()
    }

    func apply(_ updates: [SessionUpdate], context: ChannelHandlerContext) {
        for update in updates {
            switch update {
            case let .authenticated(actor, token, epoch):
                session.actor = actor
                session.token = token
                session.authEpoch = epoch
                session.failedAuths = 0
                parser.authenticated = true
                if session.watching != nil { resubscribe(actor, context: context) }
            case .deauthenticated:
                session.actor = nil
                session.token = nil
                parser.authenticated = false
                if session.watching != nil {
                    router.services.hub.unsubscribe(session.id)
                    stats.update { $0.watchers -= 1 }
                    session.watching = nil
                }
            case .authFailed:
                session.failedAuths += 1
            case .closeAfterReply:
                closeAfterReply = true
            case let .version(v):
                session.version = v
            case let .name(n):
                session.name = n
            case let .watch(filter):
                guard let actor = session.actor else { continue }
                if session.watching == nil { stats.update { $0.watchers += 1 } }
                session.watching = filter
                resubscribe(actor, context: context)
            case .unwatch:
                if session.watching != nil {
                    router.services.hub.unsubscribe(session.id)
                    stats.update { $0.watchers -= 1 }
                }
                session.watching = nil
            }
        }
    }

    /// A watcher sends no commands, so the directory check that commands get happens here,
    /// at the first event after a change, and events wait until it is done: a revoked token
    /// ends the subscription and the connection (the held events are dropped); changed roles
    /// re-filter what it is sent from then on.
    func recheckWatcher(context: ChannelHandlerContext) {
        guard !watcherRecheck, let actor = session.actor, let token = session.token else { return }
        watcherRecheck = true
        let router = self.router
        let loop = context.eventLoop
        let bound = NIOLoopBound(self, eventLoop: loop)
        Task {
            // nil: the database did not answer.
            let update = try? await router.recheckToken(actor, token: token)
            loop.execute {
                let handler = bound.value
                handler.watcherRecheck = false
                let held = handler.heldPushes
                handler.heldPushes = []
                guard let context = handler.context, !handler.closing else { return }
                if let update { handler.apply([update], context: context) }
                if case .deauthenticated = update {
                    handler.logger.notice("watcher's token revoked: closing", metadata: ["docket.client": "\(handler.session.id)"])
                    handler.write(.error("NOAUTH this connection's token was revoked"), context: context)
                    handler.closeNow(context: context)
                    return
                }
                // Still allowed, or the database did not answer (checked again at the next event).
                if handler.session.watching != nil {
                    for (event, name) in held { handler.deliver(event, channel: name, context: context) }
                }
            }
        }
    }

    /// (Re)registers this watcher with the hub under `actor`'s current rights.
    func resubscribe(_ actor: Actor, context: ChannelHandlerContext) {
        guard let filter = session.watching else { return }
        let loop = context.eventLoop
        let bound = NIOLoopBound(self, eventLoop: loop)
        router.services.hub.subscribe(session.id, filter: filter, actor: actor) { event, channel in
            loop.execute { bound.value.push(event, channel: channel) }
        }
    }

    /// Sends one event to a watcher; a watcher that cannot keep up is cut off.
    func push(_ event: EventRecord, channel name: String) {
        guard let context, !closing, session.watching != nil else { return }
        if !context.channel.isWritable {
            closing = true
            logger.notice("watcher too slow: output buffer limit reached, disconnecting", metadata: ["docket.client": "\(session.id)"])
            context.close(promise: nil)
            return
        }
        if session.authEpoch != router.services.directory.current { recheckWatcher(context: context) }
        if watcherRecheck {
            heldPushes.append((event, name))
            return
        }
        deliver(event, channel: name, context: context)
    }

    func deliver(_ event: EventRecord, channel name: String, context: ChannelHandlerContext) {
        let frame: [RESPValue] = [.bulk(session.version == .resp3 ? "event" : "message"), .bulk(name), Reply.event(event)]
        write(session.version == .resp3 ? .push(frame) : .array(frame), context: context)
        flushOut(context: context)
        router.services.metrics.eventPushed()
    }
}

extension ByteBuffer {
    /// The readable bytes as a string, or nil when they are not valid UTF-8. ASCII (command
    /// names, ids, most arguments) skips the general validator, which profiles showed costing
    /// as much per request as routing it.
    func utf8String() -> String? {
        let ascii = withUnsafeReadableBytes { bytes in bytes.allSatisfy { $0 < 0x80 } }
        if ascii { return getString(at: readerIndex, length: readableBytes) }
        return String(validating: readableBytesView, as: UTF8.self)
    }
}
