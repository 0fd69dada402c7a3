import DocketClient
import DocketWire
import Foundation
import NIOCore
import NIOPosix
import Testing
@testable import DocketBenchKit

/// Whole runs of the load tool against `FakeServer`: the event-loop path of `ping`, `get` and
/// `fire`, and the `DocketClient` path of `mixed`. Each runs 2 s after a 0.1 s warm-up: on a
/// machine busy with the rest of the suite, a shorter run completed too few requests for what
/// the tests look for (a 0.3 s `get` run over two items never drew the missing one).
@Suite struct LoopRunTests {
    static let secretariat = Credentials(user: "bench", token: "secret")
    static let population = Population(
        group: "bench", secretariat: secretariat, chair: secretariat, reviewers: [Credentials(user: "reviewer", token: "secret")],
        members: ["FR", "DE"], projects: ItemIDs(prefix: "TP", runs: [.init(1, 20)]), papers: ["PP-1", "PP-2"])

    static func runner(_ scenario: Scenario, _ server: FakeServer, _ options: [String], credentials: Credentials? = nil,
                       duration: String = "2") throws -> Runner {
        Runner(scenario: scenario, load: try LoadOptions.parse(["--duration", duration, "--warmup", "0.1"] + options),
               address: ServerAddress(host: "127.0.0.1", port: server.port), credentials: credentials,
               population: scenario == .ping ? nil : population)
    }

    @Test func pingRecordsWholeBatches() async throws {
        let server = try await FakeServer.start()
        let report = try await Self.runner(.ping, server, ["--clients", "3", "--pipeline", "4"], credentials: Self.secretariat).run()
        #expect(report.operations > 0)
        #expect(report.operations % 4 == 0)
        #expect(report.latency.count == report.operations)
        #expect(report.errors.isEmpty)
        try await server.stop()
    }

    @Test func getCountsErrorRepliesByClass() async throws {
        let server = try await FakeServer.start(missing: "TP-1")
        let report = try await Self.runner(.get, server, ["--clients", "2", "--items", "2"]).run()
        #expect(report.operations > 0)
        #expect(report.errors.keys.sorted() == ["NOTFOUND"])
        try await server.stop()
    }

    @Test func fireFollowsTheCycleOfEachItem() async throws {
        let server = try await FakeServer.start()
        server.state.setInAppraisal(["TP-4"])
        let report = try await Self.runner(.fire, server, ["--clients", "2", "--pipeline", "3"]).run()
        #expect(report.operations > 0)
        #expect(report.errors.isEmpty)
        try await server.stop()
    }

    @Test func aWrongTokenStopsTheRun() async throws {
        let server = try await FakeServer.start()
        let wrong = Credentials(user: "bench", token: "nope")
        await #expect { try await Self.runner(.ping, server, [], credentials: wrong).run() } throws: { error in
            "\(error)" == "AUTH as bench failed: WRONGPASS invalid username-password pair"
        }
        try await server.stop()
    }

    @Test func aDroppedConnectionEndsItsWorkerWithClientErrors() async throws {
        let server = try await FakeServer.start(dropAfter: 3)
        // A long run, so that on a busy machine both workers reach their second batch before
        // the end: each worker ends at its drop, not at the end of the run.
        let report = try await Self.runner(.ping, server, ["--clients", "2", "--pipeline", "2"], credentials: Self.secretariat,
                                           duration: "120").run()
        #expect(report.errors == ["client": 4])
        #expect(report.operations == 0)
        try await server.stop()
    }

    @Test func mixedRunsOnClients() async throws {
        let server = try await FakeServer.start()
        let report = try await Self.runner(.mixed, server, ["--clients", "2"]).run()
        #expect(report.operations > 0)
        #expect(report.byOperation["get"] != nil)
        try await server.stop()
    }
}

/// Just enough of a Docket server for the load tool: AUTH with the token `secret`, PING,
/// ITEM.GET (NOTFOUND for `missing`), ITEM.FIRE following the fire cycle (DENIED out of turn),
/// ITEM.LIST (the items in appraisal, whatever the filter), ENDORSE.LIST (empty), `+OK` for
/// anything else. Its replies go out in two
/// writes, so the client reads them in pieces.
struct FakeServer: Sendable {
    let channel: any Channel
    let state: FakeServerState

    var port: Int { channel.localAddress!.port! }

    /// Listens on a free loopback port; `dropAfter` closes each connection at its command after
    /// that many (AUTH aside), unanswered.
    static func start(missing: String? = nil, dropAfter: Int? = nil) async throws -> FakeServer {
        let state = FakeServerState(missing: missing, dropAfter: dropAfter)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(FakeSession(state: state))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return FakeServer(channel: channel, state: state)
    }

    func stop() async throws {
        try await channel.close()
    }
}

/// What the fake server's connections share.
final class FakeServerState: @unchecked Sendable {
    let missing: String?
    let dropAfter: Int?
    private let lock = NSLock()
    private var inAppraisal: Set<String> = []

    init(missing: String?, dropAfter: Int?) {
        self.missing = missing
        self.dropAfter = dropAfter
    }

    func setInAppraisal(_ ids: Set<String>) {
        lock.withLock { inAppraisal = ids }
    }

    /// The items in appraisal, as ITEM.LIST lists them.
    func listInAppraisal() -> RESPValue {
        lock.withLock { .array(inAppraisal.sorted().map { .map([(.bulk("id"), .bulk($0))]) }) }
    }

    /// Fires `transition` on `id` if it is the item's next step of the fire cycle.
    func fire(_ id: String, _ transition: String) -> RESPValue {
        lock.withLock {
            let appraisal = inAppraisal.contains(id)
            guard transition == FireCycle.transition(inAppraisal: appraisal) else { return .error("DENIED \(transition) not allowed") }
            if appraisal { inAppraisal.remove(id) } else { inAppraisal.insert(id) }
            return .simpleString("OK")
        }
    }
}

/// One connection of `FakeServer`.
final class FakeSession: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let state: FakeServerState
    private var parser = RESPRequestParser(authenticated: true)
    private var buffered = ByteBuffer()
    private var commands = 0

    init(state: FakeServerState) {
        self.state = state
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        buffered.writeBuffer(&bytes)
        var out = context.channel.allocator.buffer(capacity: 256)
        while let request = try? parser.next(&buffered) {
            let args = request.map { String(buffer: $0) }
            if args[0] != "AUTH" {
                commands += 1
                if let dropAfter = state.dropAfter, commands > dropAfter {
                    context.close(promise: nil)
                    return
                }
            }
            RESPEncoder.encode(reply(args), as: .resp2, into: &out)
        }
        guard out.readableBytes > 0 else { return }
        let firstHalf = out.readSlice(length: out.readableBytes / 2)!
        context.writeAndFlush(wrapOutboundOut(firstHalf), promise: nil)
        context.writeAndFlush(wrapOutboundOut(out), promise: nil)
    }

    private func reply(_ args: [String]) -> RESPValue {
        switch args[0] {
        case "AUTH": args.count == 3 && args[2] == "secret" ? .simpleString("OK") : .error("WRONGPASS invalid username-password pair")
        case "PING": .simpleString("PONG")
        case "ITEM.GET" where args[1] == state.missing: .error("NOTFOUND item \(args[1]) not found")
        case "ITEM.GET": .map([(.bulk("id"), .bulk(args[1])), (.bulk("state"), .bulk("proposal"))])
        case "ITEM.FIRE": state.fire(args[1], args[2])
        case "ITEM.LIST": state.listInAppraisal()
        case "ENDORSE.LIST": .array([])
        default: .simpleString("OK")
        }
    }
}
