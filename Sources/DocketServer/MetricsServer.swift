import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// The optional HTTP listener (`--metrics-listen`): `GET /metrics` in the Prometheus text
/// format, `GET /health/live` (the process answers) and `GET /health/ready` (PostgreSQL
/// answers too; 503 when it does not), for Prometheus and for Kubernetes probes.
public final class MetricsServer: Service, Sendable {
    public typealias Readiness = @Sendable () async -> Result<Void, any Error>
    let host: String
    let port: Int
    let metrics: @Sendable () -> [UInt8]
    let ready: Readiness
    let logger: Logger
    let onListening: @Sendable (SocketAddress) -> Void

    public init(host: String, port: Int, metrics: @escaping @Sendable () -> [UInt8], ready: @escaping Readiness, logger: Logger,
                onListening: @escaping @Sendable (SocketAddress) -> Void = { _ in }) {
        (self.host, self.port, self.metrics, self.ready, self.logger, self.onListening) = (host, port, metrics, ready, logger, onListening)
    }

    /// For an admin server: its metrics and its database check.
    public convenience init(host: String, port: Int, server: AdminServer, logger: Logger,
                            onListening: @escaping @Sendable (SocketAddress) -> Void = { _ in }) {
        self.init(host: host, port: port, metrics: { server.metricsExposition() }, ready: { await server.databaseReady() },
                  logger: logger, onListening: onListening)
    }

    public func run() async throws {
        let (metrics, ready) = (self.metrics, self.ready)
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { child in
                    child.pipeline.configureHTTPServerPipeline(withErrorHandling: true).flatMap {
                        child.pipeline.addHandler(MetricsHTTPHandler(metrics: metrics, ready: ready))
                    }
                }
                .bind(host: host, port: port)
                .get()
        } catch {
            throw ConfigurationError("cannot listen for metrics on \(host):\(port): \(error)")
        }
        if let address = channel.localAddress {
            onListening(address)
            logger.notice("metrics listening", metadata: ["docket.address": "\(address)"])
        }
        try? await withTaskCancellationOrGracefulShutdownHandler {
            try await channel.closeFuture.get()
        } onCancelOrGracefulShutdown: {
            channel.close(promise: nil)
        }
    }
}

final class MetricsHTTPHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let metrics: @Sendable () -> [UInt8]
    let ready: MetricsServer.Readiness

    init(metrics: @escaping @Sendable () -> [UInt8], ready: @escaping MetricsServer.Readiness) {
        (self.metrics, self.ready) = (metrics, ready)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case let .head(head) = unwrapInboundIn(data) else { return }
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        guard head.method == .GET || head.method == .HEAD else {
            respond(context, head, .methodNotAllowed, "only GET\n")
            return
        }
        switch path {
        case "/metrics":
            respond(context, head, .ok, metrics(), contentType: "text/plain; version=0.0.4; charset=utf-8")
        case "/health/live", "/livez":
            respond(context, head, .ok, "ok\n")
        case "/health/ready", "/readyz":
            let loop = context.eventLoop
            let bound = NIOLoopBound((self, context), eventLoop: loop)
            let ready = self.ready
            Task {
                let result = await ready()
                loop.execute {
                    let (handler, context) = bound.value
                    switch result {
                    case .success: handler.respond(context, head, .ok, "ready\n")
                    case let .failure(error): handler.respond(context, head, .serviceUnavailable, "unavailable: \(error)\n")
                    }
                }
            }
        default:
            respond(context, head, .notFound, "not found: try /metrics, /health/live or /health/ready\n")
        }
    }

    func respond(_ context: ChannelHandlerContext, _ request: HTTPRequestHead, _ status: HTTPResponseStatus, _ body: String) {
        respond(context, request, status, Array(body.utf8), contentType: "text/plain; charset=utf-8")
    }

    func respond(_ context: ChannelHandlerContext, _ request: HTTPRequestHead, _ status: HTTPResponseStatus, _ body: [UInt8], contentType: String) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        headers.add(name: "Content-Length", value: String(body.count))
        let keepAlive = request.isKeepAlive
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)
        if request.method != .HEAD {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if !keepAlive { channel.close(promise: nil) }
        }
    }
}
