import DocketWire
import NIOConcurrencyHelpers
import NIOCore

/// Matches replies to requests in FIFO order and routes out-of-band pushes.
///
/// Sits after `ByteToMessageHandler(RESPValueDecoder())`. Outbound it takes
/// ``ClientRequest``s, queues their promises and writes their bytes; inbound
/// it hands each reply to the oldest unfinished request. RESP3 pushes (`>`)
/// and, in RESP2 while the client is watching, arrays whose first element is
/// `message` go to the push stream instead (the latter as `.push`).
///
/// Each request must be answered within `timeout`; otherwise it fails with
/// ``ClientError/timeout`` and the connection is closed, since a late reply
/// would be matched to the wrong request. When the connection closes every
/// queued request fails (``ClientError/connectionClosed``, or
/// ``ClientError/protocolError(_:)`` after undecodable bytes) and the push
/// stream finishes. Only used on the channel's event loop.
final class RESPClientHandler: ChannelDuplexHandler {
    typealias InboundIn = RESPValue
    typealias OutboundIn = ClientRequest
    typealias OutboundOut = ByteBuffer

    private struct Pending {
        let id: UInt64
        let expected: Int
        var replies: [RESPValue]
        let effects: [ClientRequest.Effect]
        let promise: EventLoopPromise<[RESPValue]>
        var timeout: Scheduled<Void>?
    }

    private let timeout: TimeAmount
    private let pushes: AsyncStream<RESPValue>.Continuation
    private let sharedState: NIOLockedValueBox<ConnectionState>
    private var state = ConnectionState()
    private var queue = CircularBuffer<Pending>()
    private var nextID: UInt64 = 0
    private var closed = false
    /// Why the connection is going down, once known.
    private var failure: ClientError?

    init(
        timeout: TimeAmount,
        pushes: AsyncStream<RESPValue>.Continuation,
        state: NIOLockedValueBox<ConnectionState>
    ) {
        self.timeout = timeout
        self.pushes = pushes
        self.sharedState = state
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if closed {
            request.promise.fail(failure ?? .connectionClosed)
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        guard request.count > 0 else {
            request.promise.succeed([])
            promise?.succeed()
            return
        }
        if request.effects.contains(where: { $0.effect == .watch }) {
            state.watching = true
            publishState()
        }
        let id = nextID
        nextID &+= 1
        var pending = Pending(
            id: id, expected: request.count, replies: [], effects: request.effects, promise: request.promise
        )
        pending.replies.reserveCapacity(request.count)
        pending.timeout = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            self.timedOut(id, context: context)
        }
        queue.append(pending)
        context.write(wrapOutboundOut(request.bytes), promise: promise)
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let value = unwrapInboundIn(data)
        if let push = asPush(value) {
            pushes.yield(push)
            return
        }
        guard !queue.isEmpty else { return }  // unsolicited reply: nobody asked
        let head = queue.startIndex
        queue[head].replies.append(value)
        let index = queue[head].replies.count - 1
        for effect in queue[head].effects where effect.index == index {
            apply(effect.effect, reply: value)
        }
        if queue[head].replies.count == queue[head].expected {
            let done = queue.removeFirst()
            done.timeout?.cancel()
            done.promise.succeed(done.replies)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if failure == nil {
            if let protocolError = error as? RESPProtocolError {
                failure = .protocolError(protocolError.message)
            } else {
                failure = .connectionClosed
            }
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        shutDown()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        shutDown()
    }

    // MARK: Helpers

    /// The push to deliver for `value`, or `nil` if it is a reply.
    private func asPush(_ value: RESPValue) -> RESPValue? {
        switch value {
        case .push:
            return value
        case .array(let elements) where state.watching && state.version == .resp2:
            guard let kind = elements.first?.string, kind.lowercased() == "message" else { return nil }
            return .push(elements)
        default:
            return nil
        }
    }

    private func apply(_ effect: CommandEffect, reply: RESPValue) {
        if case .error = reply { return }
        switch effect {
        case .watch:
            return  // applied when written
        case .unwatch:
            state.watching = false
        case .reset:
            state = ConnectionState()
        case .hello(let version):
            state.version = version
        }
        publishState()
    }

    private func publishState() {
        let current = state
        sharedState.withLockedValue { $0 = current }
    }

    private func timedOut(_ id: UInt64, context: ChannelHandlerContext) {
        guard let index = queue.firstIndex(where: { $0.id == id }) else { return }
        let expired = queue.remove(at: index)
        expired.promise.fail(ClientError.timeout)
        if failure == nil { failure = .connectionClosed }
        context.close(promise: nil)
    }

    /// Fails everything still queued and ends the push stream. Idempotent.
    private func shutDown() {
        guard !closed else { return }
        closed = true
        let error = failure ?? .connectionClosed
        while let pending = queue.popFirst() {
            pending.timeout?.cancel()
            pending.promise.fail(error)
        }
        pushes.finish()
    }
}

@available(*, unavailable)
extension RESPClientHandler: Sendable {}
