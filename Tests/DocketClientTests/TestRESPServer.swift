import DocketClient
import DocketWire
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

/// A tiny real RESP server for the tests, listening on 127.0.0.1 on a free port.
///
/// Commands (see ``TestCommandHandler``): `PING`, `ECHO x`, `ERRME`,
/// `HELLO [2|3] [AUTH user token]`, `AUTH user token`, `WATCH`, `UNWATCH`,
/// `SLOW [ms]` (answers after 200 ms or `ms`, later commands wait behind it), `PUSHME`
/// (`+OK` then a push), `HANG` (never answers), `GARBAGE` (invalid RESP) and `CLOSE` (closes at once).
/// A `silent` server accepts connections and never answers.
final class TestRESPServer: Sendable {
    let channel: any Channel

    private init(channel: any Channel) {
        self.channel = channel
    }

    /// The port the server listens on.
    var port: Int { channel.localAddress!.port! }

    /// `127.0.0.1:<port>`.
    var address: ServerAddress { ServerAddress(host: "127.0.0.1", port: port) }

    static func start(tls: NIOSSLContext? = nil, silent: Bool = false) async throws -> TestRESPServer {
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard !silent else { return }
                    let operations = channel.pipeline.syncOperations
                    if let tls {
                        try operations.addHandler(NIOSSLServerHandler(context: tls))
                    }
                    try operations.addHandler(ByteToMessageHandler(RESPRequestDecoder(authenticated: true)))
                    try operations.addHandler(TestCommandHandler())
                }
            }
        let channel = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
        return TestRESPServer(channel: channel)
    }

    /// Stops listening (open connections stay up until their clients close).
    func stop() async {
        try? await channel.close()
    }
}

/// Runs `body` with a fresh server, stopping it afterwards.
func withServer<T>(
    tls: NIOSSLContext? = nil, silent: Bool = false, _ body: (TestRESPServer) async throws -> T
) async throws -> T {
    let server = try await TestRESPServer.start(tls: tls, silent: silent)
    do {
        let result = try await body(server)
        await server.stop()
        return result
    } catch {
        await server.stop()
        throw error
    }
}

/// Runs `body` with a fresh server and a client connected to it, closing both afterwards.
func withClient<T>(
    timeout: Duration = .seconds(10), _ body: (DocketClient, TestRESPServer) async throws -> T
) async throws -> T {
    try await withServer { server in
        let client = try await DocketClient.connect(to: server.address, timeout: timeout)
        do {
            let result = try await body(client, server)
            await client.close()
            return result
        } catch {
            await client.close()
            throw error
        }
    }
}

/// The test server's per-connection logic. Replies are written in request
/// order: commands behind a `SLOW` wait for it.
final class TestCommandHandler: ChannelInboundHandler {
    typealias InboundIn = [ByteBuffer]
    typealias OutboundOut = ByteBuffer

    static let validToken = "secret"
    /// How many `SLOW` commands every test server has received, so a test can act while one
    /// is pending.
    static let slowReceived = NIOLockedValueBox(0)

    private var version = RESPVersion.resp2
    private var backlog: [[ByteBuffer]] = []
    private var busy = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let raw = unwrapInboundIn(data)
        if String(buffer: raw[0]).uppercased() == "CLOSE" {
            context.close(promise: nil)
            return
        }
        backlog.append(raw)
        drain(context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func drain(context: ChannelHandlerContext) {
        while !busy, !backlog.isEmpty {
            let raw = backlog.removeFirst()
            if String(buffer: raw[0]).uppercased() == "HANG" {
                busy = true  // never answers: later commands wait until the connection closes
            } else if String(buffer: raw[0]).uppercased() == "SLOW" {
                busy = true
                Self.slowReceived.withLockedValue { $0 += 1 }
                let delay = raw.count > 1 ? Int64(String(buffer: raw[1])) ?? 200 : 200
                context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(delay)) {
                    self.busy = false
                    self.reply(.simpleString("SLOW"), context: context)
                    self.drain(context: context)
                    context.flush()
                }
            } else {
                execute(raw, context: context)
            }
        }
    }

    private func reply(_ value: RESPValue, context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 64)
        RESPEncoder.encode(value, as: version, into: &buffer)
        context.write(wrapOutboundOut(buffer), promise: nil)
    }

    private func execute(_ raw: [ByteBuffer], context: ChannelHandlerContext) {
        let args = raw.map { String(buffer: $0) }
        switch args[0].uppercased() {
        case "PING":
            reply(args.count > 1 ? .bulk(args[1]) : .simpleString("PONG"), context: context)
        case "ECHO" where args.count == 2:
            reply(.bulkString(raw[1]), context: context)  // binary-safe
        case "ERRME":
            reply(.error("NOTFOUND item PP-9 not found"), context: context)
        case "AUTH" where args.count == 3:
            reply(
                args[2] == Self.validToken ? .simpleString("OK") : .error("WRONGPASS invalid user name or token"),
                context: context
            )
        case "HELLO":
            hello(Array(args.dropFirst()), context: context)
        case "WATCH", "UNWATCH":
            reply(.simpleString("OK"), context: context)
        case "PUSHME":
            reply(.simpleString("OK"), context: context)
            reply(.push([.bulk("message"), .bulk("docket"), .bulk("hello")]), context: context)
        case "GARBAGE":
            context.write(wrapOutboundOut(ByteBuffer(string: "?what is this\r\n")), promise: nil)
        default:
            reply(.error("ERR unknown command '\(args[0])'"), context: context)
        }
    }

    private func hello(_ args: [String], context: ChannelHandlerContext) {
        var requested = version
        if let first = args.first {
            guard let number = Int(first), let parsed = RESPVersion(rawValue: number) else {
                reply(.error("NOPROTO unsupported protocol version"), context: context)
                return
            }
            requested = parsed
        }
        if args.count >= 2 {
            guard args.count == 4, args[1].uppercased() == "AUTH", args[3] == Self.validToken else {
                reply(.error("WRONGPASS invalid user name or token"), context: context)
                return
            }
        }
        version = requested
        reply(
            .map([
                (.bulk("server"), .bulk("docket")),
                (.bulk("version"), .bulk("0.1.0")),
                (.bulk("proto"), .integer(Int64(version.rawValue))),
                (.bulk("id"), .integer(7)),
                (.bulk("mode"), .bulk("standalone")),
                (.bulk("role"), .bulk("master")),
                (.bulk("modules"), .array([])),
            ]),
            context: context
        )
    }
}

@available(*, unavailable)
extension TestCommandHandler: Sendable {}
