import DocketClient
import DocketWire
import NIOCore
import NIOPosix
import Testing

@Suite("DocketClient against a real RESP server")
struct DocketClientTests {
    @Test("call and send return replies; send returns error replies as values")
    func callAndSend() async throws {
        try await withClient { client, _ in
            let pong = try await client.call("PING")
            #expect(pong == .simpleString("PONG"))
            #expect(try await client.call(["ECHO", "hello world"]).stringValue == "hello world")
            #expect(try await client.send(["ECHO", "x"]) == .bulk("x"))
            #expect(try await client.send(["ERRME"]) == .error("NOTFOUND item PP-9 not found"))
            let binary = ByteBuffer(bytes: [0, 1, 13, 10, 255])
            #expect(try await client.send(raw: [ByteBuffer(string: "ECHO"), binary]) == .bulkString(binary))
            #expect(client.isConnected)
            #expect(client.protocolVersion == .resp2)
        }
    }

    @Test("error replies are thrown as ServerError with code and message")
    func errorsAreThrown() async throws {
        try await withClient { client, _ in
            do {
                try await client.call("ERRME")
                Issue.record("expected a ServerError")
            } catch let error as ServerError {
                #expect(error.code == "NOTFOUND")
                #expect(error.message == "item PP-9 not found")
                #expect(error.line == "NOTFOUND item PP-9 not found")
                #expect(error.description == error.line)
            }
            await #expect(throws: ServerError(code: "ERR", message: "unknown command 'NOPE'")) {
                try await client.call("NOPE")
            }
            // The connection stays usable after error replies.
            #expect(try await client.call("PING") == .simpleString("PONG"))
        }
    }

    @Test("a pipeline of 1,000 commands returns the replies in order")
    func pipelineOrder() async throws {
        try await withClient { client, _ in
            var commands = (0..<1_000).map { ["ECHO", "value-\($0)"] }
            commands[500] = ["ERRME"]
            let replies = try await client.pipeline(commands)
            #expect(replies.count == 1_000)
            for (index, reply) in replies.enumerated() where index != 500 {
                #expect(reply.stringValue == "value-\(index)")
            }
            #expect(replies[500] == .error("NOTFOUND item PP-9 not found"))
            #expect(try await client.pipeline([]).isEmpty)
            #expect(try await client.call("PING") == .simpleString("PONG"))
        }
    }

    @Test("50 concurrent calls on one client each get their own reply")
    func concurrentCalls() async throws {
        try await withClient { client, _ in
            try await withThrowingTaskGroup(of: (Int, RESPValue).self) { group in
                for i in 0..<50 {
                    group.addTask {
                        // Mix in pipelines and slow replies so requests interleave.
                        if i % 10 == 0 {
                            let replies = try await client.pipeline([["ECHO", "task-\(i)"], ["PING"]])
                            return (i, replies[0])
                        }
                        return (i, try await client.call("ECHO", "task-\(i)"))
                    }
                }
                var seen = Set<Int>()
                for try await (i, reply) in group {
                    #expect(reply.stringValue == "task-\(i)")
                    seen.insert(i)
                }
                #expect(seen.count == 50)
            }
        }
    }

    @Test("RESP3 pushes arrive on the push stream, not as replies")
    func resp3Pushes() async throws {
        try await withClient { client, _ in
            let hello = try await client.hello()
            #expect(hello["proto"]?.intValue == 3)
            #expect(client.protocolVersion == .resp3)
            #expect(try await client.call("PUSHME") == .simpleString("OK"))
            #expect(try await client.call("PING") == .simpleString("PONG"))
            var iterator = client.pushes.makeAsyncIterator()
            let push = await iterator.next()
            #expect(push == .push([.bulk("message"), .bulk("docket"), .bulk("hello")]))
        }
    }

    @Test("RESP2 message arrays after WATCH are routed to the push stream")
    func resp2PushesWhileWatching() async throws {
        try await withClient { client, _ in
            #expect(client.protocolVersion == .resp2)
            #expect(try await client.call("WATCH", "item:PP-9") == .simpleString("OK"))
            let replies = try await client.pipeline([["PUSHME"], ["PING"]])
            #expect(replies == [.simpleString("OK"), .simpleString("PONG")])
            var iterator = client.pushes.makeAsyncIterator()
            #expect(await iterator.next() == .push([.bulk("message"), .bulk("docket"), .bulk("hello")]))
            #expect(try await client.call("UNWATCH") == .simpleString("OK"))
            #expect(try await client.call("PING") == .simpleString("PONG"))
        }
    }

    @Test("the server closing the connection fails pending calls and ends the push stream")
    func serverCloseFailsPending() async throws {
        try await withClient { client, _ in
            // HANG is never answered, so the pending call can only end by the close.
            let slow = Task { try await client.call("HANG") }
            try await Task.sleep(for: .milliseconds(50))
            await #expect(throws: ClientError.connectionClosed) {
                try await client.send(["CLOSE"])
            }
            await #expect(throws: ClientError.connectionClosed) {
                try await slow.value
            }
            var pushCount = 0
            for await _ in client.pushes { pushCount += 1 }
            #expect(pushCount == 0)
            await #expect(throws: ClientError.connectionClosed) {
                try await client.call("PING")
            }
            #expect(!client.isConnected)
        }
    }

    @Test("close() fails pending calls and later calls")
    func clientClose() async throws {
        try await withClient { client, _ in
            // HANG is never answered, so the pending call can only end by the close.
            let slow = Task { try await client.call("HANG") }
            try await Task.sleep(for: .milliseconds(50))
            await client.close()
            await #expect(throws: ClientError.connectionClosed) {
                try await slow.value
            }
            await #expect(throws: ClientError.connectionClosed) {
                try await client.pipeline([["PING"], ["PING"]])
            }
            await client.close()  // twice is fine
        }
    }

    @Test("a cancelled call throws CancellationError and the connection stays in step")
    func cancellation() async throws {
        try await withClient { client, _ in
            // Cancelled once the server holds the SLOW (a busy machine may take longer than
            // any fixed pause to send it), with time to spare before its answer. A machine
            // busy enough to stall this task for the 3 s the answer takes lets the answer in
            // first: then the call succeeds, and the round is tried again.
            var cancelled = false
            for _ in 0..<5 where !cancelled {
                let received = TestCommandHandler.slowReceived.withLockedValue { $0 }
                let slow = Task { try await client.call("SLOW", "3000") }
                for _ in 0..<500 where TestCommandHandler.slowReceived.withLockedValue({ $0 }) == received {
                    try await Task.sleep(for: .milliseconds(10))
                }
                slow.cancel()
                do {
                    #expect(try await slow.value == .simpleString("SLOW"), "answered before the cancellation")
                } catch is CancellationError {
                    cancelled = true
                }
                // In step either way: the next reply is the next call's.
                #expect(try await client.call("ECHO", "after") == .bulk("after"))
            }
            #expect(cancelled, "no cancelled call threw CancellationError in five rounds")
        }
    }

    @Test("connecting to a closed port fails fast with connectionFailed")
    func closedPort() async throws {
        let server = try await TestRESPServer.start()
        let address = server.address
        await server.stop()
        let clock = ContinuousClock()
        let start = clock.now
        do {
            _ = try await DocketClient.connect(to: address, timeout: .seconds(10))
            Issue.record("connected to a closed port")
        } catch let error as ClientError {
            guard case .connectionFailed(let failed, let reason) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(failed == address)
            #expect(!reason.isEmpty)
            #expect(error.description.hasPrefix("could not connect to \(address)"))
        }
        #expect(clock.now - start < .seconds(60), "fails rather than hangs")
    }

    @Test("a server that never answers makes the call time out and closes the connection")
    func timeout() async throws {
        try await withServer(silent: true) { server in
            let client = try await DocketClient.connect(to: server.address, timeout: .milliseconds(300))
            let clock = ContinuousClock()
            let start = clock.now
            await #expect(throws: ClientError.timeout) {
                try await client.call("PING")
            }
            let elapsed = clock.now - start
            #expect(elapsed >= .milliseconds(250), "the reply timeout, not an earlier failure")
            await #expect(throws: ClientError.connectionClosed) {
                try await client.call("PING")
            }
            for await _ in client.pushes {}
            #expect(!client.isConnected)
        }
    }

    @Test("invalid RESP from the server fails the call with protocolError")
    func protocolError() async throws {
        try await withClient { client, _ in
            do {
                try await client.call("GARBAGE")
                Issue.record("expected a protocol error")
            } catch let error as ClientError {
                guard case .protocolError(let message) = error else {
                    Issue.record("unexpected error \(error)")
                    return
                }
                #expect(message.contains("unknown reply type"))
            }
            // The connection is unusable afterwards: the next call fails, with the same protocol
            // error or as closed, depending on whether the close has completed yet.
            do {
                try await client.call("PING")
                Issue.record("a call after a protocol error succeeded")
            } catch let error as ClientError {
                switch error {
                case .connectionClosed, .protocolError: break
                default: Issue.record("unexpected error \(error)")
                }
            }
        }
    }

    @Test("an empty command is rejected without being sent")
    func emptyCommand() async throws {
        try await withClient { client, _ in
            await #expect(throws: ClientError.self) { try await client.send([]) }
            await #expect(throws: ClientError.self) { try await client.pipeline([["PING"], []]) }
            let pong = try await client.call("PING")
            #expect(pong == .simpleString("PONG"))
        }
    }

    @Test("HELLO 2 returns a flat array readable as a map; HELLO 3 a map")
    func helloVersions() async throws {
        try await withClient { client, _ in
            let resp2 = try await client.hello(2)
            guard case .array = resp2 else {
                Issue.record("expected a flat array, got \(resp2)")
                return
            }
            #expect(resp2.mapValue?["server"]?.stringValue == "docket")
            #expect(resp2["proto"]?.intValue == 2)
            #expect(client.protocolVersion == .resp2)

            let resp3 = try await client.hello(3)
            guard case .map = resp3 else {
                Issue.record("expected a map, got \(resp3)")
                return
            }
            #expect(resp3.mapValue?["mode"]?.stringValue == "standalone")
            #expect(resp3["modules"]?.arrayValue == [])
            #expect(client.protocolVersion == .resp3)
        }
    }

    @Test("auth and HELLO AUTH: good tokens pass, bad ones throw WRONGPASS")
    func authentication() async throws {
        try await withClient { client, _ in
            try await client.auth(user: "ops", token: "secret")
            do {
                try await client.auth(user: "ops", token: "wrong")
                Issue.record("expected WRONGPASS")
            } catch let error as ServerError {
                #expect(error.code == "WRONGPASS")
            }
            await #expect(throws: ServerError.self) {
                try await client.hello(3, user: "ops", token: "wrong")
            }
            #expect(client.protocolVersion == .resp2)
            let hello = try await client.hello(3, user: "ops", token: "secret")
            #expect(hello["server"]?.stringValue == "docket")
            #expect(client.protocolVersion == .resp3)
        }
    }
}
