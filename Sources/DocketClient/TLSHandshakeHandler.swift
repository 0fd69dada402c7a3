import NIOCore
import NIOSSL
import NIOTLS

/// Completes a promise when the TLS handshake finishes, or fails it with the
/// handshake error (or ``ClientError/connectionClosed``), so that
/// ``DocketClient/connect(to:tls:timeout:eventLoopGroup:)`` reports a bad
/// certificate as a connection failure rather than on the first command.
/// Sits right after `NIOSSLClientHandler`.
final class TLSHandshakeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let promise: EventLoopPromise<Void>

    init(promise: EventLoopPromise<Void>) {
        self.promise = promise
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tlsEvent = event as? TLSUserEvent, case .handshakeCompleted = tlsEvent {
            promise.succeed()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ClientError.connectionClosed)
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        promise.fail(ClientError.connectionClosed)
    }
}

@available(*, unavailable)
extension TLSHandshakeHandler: Sendable {}
