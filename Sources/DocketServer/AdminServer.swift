import DocketCore
import DocketStore
import DocketWire
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle

/// Open connections, so shutdown can ask each to drain (answer what it has received, then
/// close) and close what is left. A session knows by itself whether a command is in flight.
final class SessionRegistry: Sendable {
    struct Entry { var channel: any Channel }
    private let entries = NIOLockedValueBox([Int64: Entry]())
    private let nextID = NIOLockedValueBox<Int64>(0)

    func makeID() -> Int64 { nextID.withLockedValue { $0 += 1; return $0 } }

    func add(_ id: Int64, channel: any Channel, limit: Int) -> Bool {
        entries.withLockedValue { e in
            guard e.count < limit else { return false }
            e[id] = Entry(channel: channel)
            return true
        }
    }

    func remove(_ id: Int64) { _ = entries.withLockedValue { $0.removeValue(forKey: id) } }
    var channels: [any Channel] { entries.withLockedValue { $0.values.map(\.channel) } }
    var count: Int { entries.withLockedValue { $0.count } }
}

/// The admin server: RESP over TCP (optionally TLS), one `SessionHandler` per connection.
public final class AdminServer: Service, Sendable {
    let configuration: ServerConfiguration
    let services: Services
    let logger: Logger
    let registry = SessionRegistry()
    /// Replaced by `reloadTLS()` (SIGHUP); new connections use the current one.
    let sslContext: NIOLockedValueBox<NIOSSLContext?>
    private let bound = NIOLockedValueBox<(SocketAddress?, [CheckedContinuation<SocketAddress, any Error>])>((nil, []))
    let onListening: @Sendable (SocketAddress) -> Void

    public init(configuration: ServerConfiguration, store: Store, hub: EventHub, clock: any DocketClock = SystemClock(),
                metrics: ServerMetrics = ServerMetrics(), logger: Logger,
                onListening: @escaping @Sendable (SocketAddress) -> Void = { _ in }) throws {
        self.configuration = configuration
        self.services = Services(store: store, clock: clock, hub: hub, configuration: configuration, stats: ServerStats(),
                                 metrics: metrics, directory: DirectoryEpoch())
        self.logger = logger
        self.onListening = onListening
        if let cert = configuration.tlsCertificate, let key = configuration.tlsKey {
            sslContext = NIOLockedValueBox(try Self.makeSSLContext(certificate: cert, key: key))
        } else if configuration.tlsCertificate != nil || configuration.tlsKey != nil {
            throw ConfigurationError("TLS needs both --tls-cert and --tls-key")
        } else {
            sslContext = NIOLockedValueBox(nil)
        }
    }

    /// Reads the certificate and key files again; connections accepted afterwards use them,
    /// open ones keep theirs. On failure the current certificate stays and the error is thrown.
    public func reloadTLS() throws {
        guard let cert = configuration.tlsCertificate, let key = configuration.tlsKey else {
            throw ConfigurationError("TLS is not enabled: nothing to reload")
        }
        let fresh = try Self.makeSSLContext(certificate: cert, key: key)
        sslContext.withLockedValue { $0 = fresh }
        logger.notice("TLS certificate reloaded", metadata: ["docket.tls-cert": "\(cert)"])
    }

    public var metrics: ServerMetrics { services.metrics }

    /// Prometheus text of every metric, gauges refreshed now.
    public func metricsExposition() -> [UInt8] {
        let stats = services.stats.snapshot
        services.metrics.refresh(connections: stats.connected, watchers: stats.watchers, poolSize: configuration.poolSize)
        return services.metrics.exposition()
    }

    /// Whether the database answers within the store's timeout: the readiness check.
    public func databaseReady() async -> Result<Void, any Error> {
        do {
            try await services.store.ping()
            return .success(())
        } catch {
            return .failure(error)
        }
    }

    static func makeSSLContext(certificate: String, key: String) throws -> NIOSSLContext {
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(certificate).map { NIOSSLCertificateSource.certificate($0) }
            var tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
            tls.minimumTLSVersion = .tlsv12
            return try NIOSSLContext(configuration: tls)
        } catch {
            throw ConfigurationError("cannot load TLS certificate \(certificate) and key \(key): \(error)")
        }
    }

    /// The address the server listens on, once bound (port 0 resolved).
    public func boundAddress() async throws -> SocketAddress {
        try await withCheckedThrowingContinuation { c in
            let ready = bound.withLockedValue { state -> SocketAddress? in
                if let a = state.0 { return a }
                state.1.append(c)
                return nil
            }
            if let ready { c.resume(returning: ready) }
        }
    }

    public func run() async throws {
        let router = CommandRouter(services: services)
        let (registry, logger, tls, configuration) = (self.registry, self.logger, self.sslContext, self.configuration)
        let channel: any Channel
        do {
            channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(.backlog, value: 1024)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                // A client may send its requests and shut down its side (`nc -N`): answer them, then close.
                .childChannelOption(.allowRemoteHalfClosure, value: true)
                .childChannelOption(.writeBufferWaterMark, value: .init(low: configuration.watcherOutputLimit / 2, high: configuration.watcherOutputLimit))
                .childChannelOption(.maxMessagesPerRead, value: 16)
                .childChannelInitializer { child in
                    child.eventLoop.makeCompletedFuture {
                        let sync = child.pipeline.syncOperations
                        if let sslContext = tls.withLockedValue({ $0 }) { try sync.addHandler(NIOSSLServerHandler(context: sslContext)) }
                        if let idle = configuration.idleTimeout {
                            try sync.addHandler(IdleStateHandler(readTimeout: TimeAmount(idle)))
                        }
                        let id = registry.makeID()
                        let address = child.remoteAddress?.description ?? "?"
                        try sync.addHandler(SessionHandler(router: router, limits: configuration.limits, registry: registry, id: id, address: address, logger: logger))
                    }
                }
                .bind(host: configuration.host, port: configuration.port)
                .get()
        } catch {
            throw ConfigurationError("cannot listen on \(configuration.host):\(configuration.port): \(error)")
        }
        guard let address = channel.localAddress else { throw ConfigurationError("the listening socket has no address") }
        services.stats.update { $0.port = address.port }
        let waiting = bound.withLockedValue { state -> [CheckedContinuation<SocketAddress, any Error>] in
            state.0 = address
            defer { state.1 = [] }
            return state.1
        }
        for c in waiting { c.resume(returning: address) }
        onListening(address)
        logger.notice("listening", metadata: ["docket.address": "\(address)", "docket.tls": "\(configuration.tlsCertificate != nil)"])

        let (directory, store) = (services.directory, services.store)
        let directoryListener = Task { await directory.listen(store: store, logger: logger) }
        try? await withTaskCancellationOrGracefulShutdownHandler {
            try await channel.closeFuture.get()
        } onCancelOrGracefulShutdown: {
            channel.close(promise: nil)
        }
        directoryListener.cancel()
        // Stop accepting; each session reads nothing more, answers the requests it has received
        // (up to 10 s in all) and closes.
        let deadline = ContinuousClock.now + .seconds(10)
        while registry.count > 0, ContinuousClock.now < deadline {
            // Again each round: a connection accepted just before the listener closed gets it too.
            for child in registry.channels { child.pipeline.fireUserInboundEventTriggered(DrainEvent()) }
            try? await Task.sleep(for: .milliseconds(20))
        }
        for child in registry.channels { try? await child.close() }
        store.closeLoopConnections()
        logger.notice("admin server stopped")
    }
}

extension EventHub: Service {}
