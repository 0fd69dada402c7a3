import DocketWire
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// An async client for the Docket admin server, which speaks RESP.
///
/// One client is one connection. It is safe to share between tasks: commands
/// from concurrent tasks are written in the order they reach the connection
/// and each gets its own reply, and ``pipeline(_:)`` sends many commands in
/// one write.
///
/// ```swift
/// let client = try await DocketClient.connect(to: ServerAddress("localhost:7433")!)
/// try await client.hello(3, user: "ops", token: token)
/// let item = try await client.call("ITEM", "GET", "PP-9")
/// await client.close()
/// ```
///
/// Every reply must arrive within the client's timeout (the one given to
/// ``connect(to:tls:timeout:eventLoopGroup:)``); if one does not, that call
/// fails with ``ClientError/timeout`` and the connection is closed, so later
/// calls fail with ``ClientError/connectionClosed``.
public final class DocketClient: Sendable {
    /// How many unread pushes ``pushes`` keeps; older ones are dropped.
    public static let pushBufferLimit = 10_000

    /// The server this client is connected to.
    public let address: ServerAddress

    /// Out-of-band messages from the server, in arrival order: RESP3 pushes
    /// (`>`) and, in RESP2 while the client has an active `WATCH`, arrays whose
    /// first element is `message` (delivered as `RESPValue.push` too).
    ///
    /// The server sends these after `WATCH`. The stream finishes when the
    /// connection closes. Iterate it from one task; at most
    /// ``pushBufferLimit`` unread pushes are kept.
    public let pushes: AsyncStream<RESPValue>

    private let channel: any Channel
    private let timeout: TimeAmount
    private let state: NIOLockedValueBox<ConnectionState>

    private init(
        address: ServerAddress, channel: any Channel, timeout: TimeAmount,
        pushes: AsyncStream<RESPValue>, state: NIOLockedValueBox<ConnectionState>
    ) {
        self.address = address
        self.channel = channel
        self.timeout = timeout
        self.pushes = pushes
        self.state = state
    }

    deinit {
        channel.close(promise: nil)
    }

    /// The protocol the server answers in: `.resp2` until a
    /// `HELLO 3` (for instance ``hello(_:user:token:)``) succeeds.
    public var protocolVersion: RESPVersion {
        state.withLockedValue { $0.version }
    }

    /// Whether the connection is still open.
    public var isConnected: Bool {
        channel.isActive
    }

    // MARK: Connecting

    /// Opens a connection (and completes the TLS handshake, with `tls`).
    ///
    /// - Parameters:
    ///   - address: The server.
    ///   - tls: TLS settings, or `nil` for plain TCP.
    ///   - timeout: The limit for connecting, for the TLS handshake, and then
    ///     for each reply.
    ///   - eventLoopGroup: Where the connection's I/O runs.
    /// - Throws: ``ClientError/connectionFailed(_:_:)`` when the server cannot
    ///   be reached, the connection times out, the CA file cannot be read or
    ///   the handshake fails (for instance an untrusted certificate).
    public static func connect(
        to address: ServerAddress,
        tls: ClientTLS? = nil,
        timeout: Duration = .seconds(10),
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> DocketClient {
        let limit = TimeAmount(timeout)
        let sslContext = try tls.map { try makeSSLContext($0, for: address) }
        let serverHostname = tls.flatMap { $0.serverName ?? (address.hostIsIPAddress ? nil : address.host) }
        let eventLoop = eventLoopGroup.next()
        let handshake = sslContext == nil ? nil : eventLoop.makePromise(of: Void.self)
        let state = NIOLockedValueBox(ConnectionState())
        let (pushes, continuation) = AsyncStream.makeStream(
            of: RESPValue.self, bufferingPolicy: .bufferingNewest(pushBufferLimit)
        )

        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(limit)
            .channelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let operations = channel.pipeline.syncOperations
                    if let sslContext, let handshake {
                        try operations.addHandler(
                            NIOSSLClientHandler(context: sslContext, serverHostname: serverHostname)
                        )
                        try operations.addHandler(TLSHandshakeHandler(promise: handshake))
                    }
                    try operations.addHandler(ByteToMessageHandler(RESPValueDecoder()))
                    try operations.addHandler(
                        RESPClientHandler(timeout: limit, pushes: continuation, state: state)
                    )
                }
            }

        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: address.host, port: address.port).get()
        } catch {
            handshake?.fail(error)
            continuation.finish()
            throw ClientError.connectionFailed(address, describeConnectError(error, timeout: timeout))
        }

        if let handshake {
            let timer = eventLoop.scheduleTask(in: limit) {
                handshake.fail(ClientError.timeout)
            }
            do {
                try await handshake.futureResult.get()
                timer.cancel()
            } catch {
                timer.cancel()
                try? await channel.close()
                let reason =
                    if case ClientError.timeout = error {
                        "TLS handshake timed out after \(timeout)"
                    } else {
                        "TLS handshake failed: \(error)"
                    }
                throw ClientError.connectionFailed(address, reason)
            }
        }
        return DocketClient(address: address, channel: channel, timeout: limit, pushes: pushes, state: state)
    }

    // MARK: Commands

    /// Sends one command and returns its reply.
    ///
    /// - Throws: ``ServerError`` for an error reply, ``ClientError`` when the
    ///   connection fails or the reply does not come in time.
    @discardableResult
    public func call(_ args: String...) async throws -> RESPValue {
        try await call(args)
    }

    /// Sends one command and returns its reply.
    ///
    /// - Throws: ``ServerError`` for an error reply, ``ClientError`` when the
    ///   connection fails or the reply does not come in time.
    @discardableResult
    public func call(_ args: [String]) async throws -> RESPValue {
        let reply = try await send(args)
        if case .error(let line) = reply {
            throw ServerError(line: line)
        }
        return reply
    }

    /// Sends one command and returns its reply; unlike `call`
    /// an error reply is returned as `RESPValue.error` rather than thrown.
    ///
    /// - Throws: ``ClientError`` only (``ClientError/protocolError(_:)`` for
    ///   an empty command).
    public func send(_ args: [String]) async throws -> RESPValue {
        guard !args.isEmpty else { throw ClientError.protocolError("empty command") }
        var buffer = channel.allocator.buffer(capacity: Self.estimatedSize(args))
        RESPEncoder.encodeCommand(args, into: &buffer)
        let effects = CommandEffect(args).map { [ClientRequest.Effect(index: 0, effect: $0)] } ?? []
        return try await submit(buffer, count: 1, effects: effects)[0]
    }

    /// Sends one command made of binary-safe arguments and returns its reply,
    /// error replies included (as `RESPValue.error`).
    ///
    /// - Throws: ``ClientError`` only.
    public func send(raw args: [ByteBuffer]) async throws -> RESPValue {
        guard !args.isEmpty else { throw ClientError.protocolError("empty command") }
        var buffer = channel.allocator.buffer(
            capacity: args.reduce(16) { $0 + $1.readableBytes + 16 }
        )
        RESPEncoder.encodeCommand(args, into: &buffer)
        let effects = CommandEffect(args).map { [ClientRequest.Effect(index: 0, effect: $0)] } ?? []
        return try await submit(buffer, count: 1, effects: effects)[0]
    }

    /// Writes all `commands` in one flush and returns their replies in order
    /// (pipelining). Error replies are returned as `RESPValue.error`, so
    /// one failing command does not hide the others' replies.
    ///
    /// The whole batch must be answered within the client's timeout.
    /// - Throws: ``ClientError`` only (``ClientError/protocolError(_:)`` if a
    ///   command is empty, before anything is sent).
    public func pipeline(_ commands: [[String]]) async throws -> [RESPValue] {
        guard !commands.isEmpty else { return [] }
        var buffer = channel.allocator.buffer(capacity: commands.reduce(0) { $0 + Self.estimatedSize($1) })
        var effects: [ClientRequest.Effect] = []
        for (index, command) in commands.enumerated() {
            guard !command.isEmpty else { throw ClientError.protocolError("empty command at index \(index)") }
            RESPEncoder.encodeCommand(command, into: &buffer)
            if let effect = CommandEffect(command) {
                effects.append(ClientRequest.Effect(index: index, effect: effect))
            }
        }
        return try await submit(buffer, count: commands.count, effects: effects)
    }

    /// Sends `HELLO <version>`, with `AUTH <user> <token>` when a token is
    /// given (`user` defaults to `default`), and returns the server's
    /// description: a map in RESP3, a flat array in RESP2 (read either with
    /// `RESPValue.mapValue`). On success the client switches to `version`.
    ///
    /// - Throws: ``ServerError`` (for example `NOPROTO`, `WRONGPASS`) or ``ClientError``.
    @discardableResult
    public func hello(_ version: Int = 3, user: String? = nil, token: String? = nil) async throws -> RESPValue {
        var args = ["HELLO", String(version)]
        if let token {
            args += ["AUTH", user ?? "default", token]
        }
        return try await call(args)
    }

    /// Authenticates the connection with `AUTH <user> <token>`.
    ///
    /// - Throws: ``ServerError`` (`WRONGPASS`...) or ``ClientError``.
    public func auth(user: String, token: String) async throws {
        try await call("AUTH", user, token)
    }

    /// Closes the connection. Calls still waiting fail with
    /// ``ClientError/connectionClosed`` and ``pushes`` finishes. Calling it
    /// again does nothing.
    public func close() async {
        try? await channel.close()
    }

    // MARK: Internals

    private func submit(_ bytes: ByteBuffer, count: Int, effects: [ClientRequest.Effect]) async throws -> [RESPValue] {
        let promise = channel.eventLoop.makePromise(of: [RESPValue].self)
        let request = ClientRequest(bytes: bytes, count: count, effects: effects, promise: promise)
        channel.writeAndFlush(request).whenFailure { _ in
            // Only matters when the handler never saw the request (pipeline
            // already torn down); otherwise the promise is already complete
            // or will fail when the connection closes.
            promise.fail(ClientError.connectionClosed)
        }
        return try await withTaskCancellationHandler {
            try await promise.futureResult.get()
        } onCancel: {
            // The reply, when it comes, is still consumed by this request,
            // so the connection stays in step.
            promise.fail(CancellationError())
        }
    }

    private static func estimatedSize(_ args: [String]) -> Int {
        args.reduce(16) { $0 + $1.utf8.count + 16 }
    }

    private static func makeSSLContext(_ tls: ClientTLS, for address: ServerAddress) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let caFile = tls.caFile {
            let certificates: [NIOSSLCertificate]
            do {
                certificates = try NIOSSLCertificate.fromPEMFile(caFile)
            } catch {
                throw ClientError.connectionFailed(address, "cannot read CA file \(caFile): \(error)")
            }
            guard !certificates.isEmpty else {
                throw ClientError.connectionFailed(address, "no certificate in CA file \(caFile)")
            }
            configuration.trustRoots = .certificates(certificates)
        }
        if !tls.verify {
            configuration.certificateVerification = .none
        }
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw ClientError.connectionFailed(address, "cannot set up TLS: \(error)")
        }
    }

    private static func describeConnectError(_ error: any Error, timeout: Duration) -> String {
        switch error {
        case ChannelError.connectTimeout:
            return "timed out after \(timeout)"
        case let error as NIOConnectionError:
            if let first = error.connectionErrors.first {
                return describeConnectError(first.error, timeout: timeout)
            }
            if let dnsError = error.dnsAError ?? error.dnsAAAAError {
                return "cannot resolve \(error.host): \(dnsError)"
            }
            return "cannot resolve \(error.host)"
        case let error as IOError:
            return error.description
        default:
            return String(describing: error)
        }
    }
}
