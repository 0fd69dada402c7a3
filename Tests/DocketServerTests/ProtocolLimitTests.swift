import DocketClient
import DocketTestSupport
import DocketWire
import Foundation
import Testing

/// Byte-level requests over raw TCP, the cases of Redis' tests/unit/protocol.tcl and the
/// limits of PROTOCOL.md: a protocol error is answered `-ERR Protocol error: ...` and closes
/// that connection only.
@Suite("Protocol errors and limits over raw TCP", .timeLimit(.minutes(10)))
struct ProtocolLimitTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var bytes: [UInt8]
        /// Send the bytes after AUTH (lifts the pre-auth limits).
        var authenticated = false
        var reply: String
        var testDescription: String { name }
    }

    static func b(_ s: String) -> [UInt8] { Array(s.utf8) }

    static let cases: [Case] = [
        Case(name: "out of range multibulk length", bytes: b("*3000000000\r\n"), reply: "invalid multibulk length"),
        Case(name: "multibulk length over 1,024", bytes: b("*1025\r\n"), authenticated: true, reply: "invalid multibulk length"),
        Case(name: "non-number multibulk length", bytes: b("*blabla\r\n"), reply: "invalid multibulk length"),
        Case(name: "wrong multibulk payload header", bytes: b("*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n"), reply: "expected '$', got 'f'"),
        Case(name: "negative multibulk payload length", bytes: b("*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$-10\r\n"), reply: "invalid bulk length"),
        Case(name: "out of range multibulk payload length", bytes: b("*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$2000000000\r\n"), reply: "invalid bulk length"),
        Case(name: "non-number multibulk payload length", bytes: b("*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$blabla\r\n"), reply: "invalid bulk length"),
        Case(name: "multibulk request not followed by bulk arguments", bytes: b("*1\r\nfoo\r\n"), reply: "expected '$', got 'f'"),
        Case(name: "bad type byte where $ is expected", bytes: b("*2\r\n$4\r\nPING\r\n:12\r\n"), authenticated: true, reply: "expected '$', got ':'"),
        Case(name: "bulk not followed by CRLF", bytes: b("*1\r\n$4\r\nPINGxx"), authenticated: true, reply: "expected CRLF after bulk data"),
        Case(name: "bulk over 16 MiB, refused on its header", bytes: b("*2\r\n$4\r\nECHO\r\n$16777217\r\n"), authenticated: true,
             reply: "invalid bulk length"),
        Case(name: "unbalanced quotes in an inline request", bytes: b("set \"\"\"test-key\"\"\" test-value\r\nping\r\n"), reply: "unbalanced quotes in request"),
        Case(name: "closing quote not followed by a space", bytes: b("PING \"a\"b\r\n"), authenticated: true, reply: "unbalanced quotes in request"),
        Case(name: "*\\x00 desync", bytes: [UInt8(ascii: "*"), 0], reply: "invalid multibulk length"),
        Case(name: "11 arguments before AUTH", bytes: b("*11\r\n"), reply: "too many arguments before AUTH"),
        Case(name: "11 inline words before AUTH", bytes: b("PING a b c d e f g h i j\r\n"), reply: "too many arguments before AUTH"),
        Case(name: "a 17 KiB argument before AUTH", bytes: b("*2\r\n$4\r\nAUTH\r\n$17408\r\n"), reply: "request too large before AUTH"),
        Case(name: "a 17 KiB inline line before AUTH", bytes: b("AUTH admin " + String(repeating: "x", count: 17 * 1024) + "\r\n"),
             reply: "request too large before AUTH"),
        Case(name: "an inline line over 64 KiB", bytes: b("PING " + String(repeating: "x", count: 64 * 1024) + "\r\n"), authenticated: true,
             reply: "too big inline request"),
    ]

    @Test("answered -ERR Protocol error and closed; other connections unaffected", arguments: cases)
    func protocolError(_ c: Case) async throws {
        try await TestServer.with { server in
            let bystander = try await RawConnection.authenticated(port: server.port, token: server.adminToken)
            defer { bystander.close() }
            let offender = c.authenticated
                ? try await RawConnection.authenticated(port: server.port, token: server.adminToken)
                : try await RawConnection.connect(port: server.port)
            defer { offender.close() }
            _ = await offender.sendAll(c.bytes)
            let answer = await offender.readToEnd()
            #expect(answer.text == "-ERR Protocol error: \(c.reply)\r\n")
            #expect(answer.closed, "the connection must be closed after a protocol error")
            try await Self.expectServerHealthy(server, bystander: bystander)
        }
    }

    /// Redis' "protocol desync regression" tests: a prefix, then `payload` without a newline,
    /// over and over. The server must give up at a limit, never buffer without end.
    @Test("a flood without newline is cut off at a limit", arguments: [
        ("\\x00 flood before AUTH", [UInt8(0)], false, "request too large before AUTH"),
        ("\\x00 flood after AUTH", [UInt8(0)], true, "too big inline request"),
        ("$\\x00 flood after AUTH", [UInt8(ascii: "$"), 0], true, "too big inline request"),
    ])
    func flood(name: String, prefix: [UInt8], authenticated: Bool, reply: String) async throws {
        try await TestServer.with { server in
            let bystander = try await RawConnection.authenticated(port: server.port, token: server.adminToken)
            defer { bystander.close() }
            let offender = authenticated
                ? try await RawConnection.authenticated(port: server.port, token: server.adminToken)
                : try await RawConnection.connect(port: server.port)
            defer { offender.close() }
            // Reading concurrently, so the reply is seen even while the flood is still going.
            async let answer = offender.readToEnd(timeout: .seconds(20))
            let sent = await offender.flood(prefix: prefix, chunk: Array("payload".utf8), limit: 8 * 1024 * 1024)
            let received = await answer
            #expect(sent < 8 * 1024 * 1024, "the server kept reading \(sent) bytes without a newline")
            #expect(received.text == "-ERR Protocol error: \(reply)\r\n")
            #expect(received.closed)
            try await Self.expectServerHealthy(server, bystander: bystander)
        }
    }

    @Test("an HTTP request gets the connection closed without a reply", arguments: [
        "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "POST /api HTTP/1.0\r\nContent-Length: 0\r\n\r\n",
        "Host: 127.0.0.1:7433\r\n",
    ])
    func http(request: String) async throws {
        try await TestServer.with { server in
            let bystander = try await RawConnection.authenticated(port: server.port, token: server.adminToken)
            defer { bystander.close() }
            let c = try await RawConnection.connect(port: server.port)
            defer { c.close() }
            try await c.send(request)
            let answer = await c.readToEnd()
            #expect(answer.bytes.isEmpty, "got \(answer.text.debugDescription)")
            #expect(answer.closed)
            try await Self.expectServerHealthy(server, bystander: bystander)
        }
    }

    @Test("empty lines, *0 and negative multibulk counts are skipped; inline quotes work")
    func lenientInput() async throws {
        try await TestServer.with { server in
            let c = try await RawConnection.connect(port: server.port)
            defer { c.close() }
            try await c.send("\r\n\n   \r\n*0\r\n*-1\r\n*-10\r\nPING\r\n")
            #expect(await c.read(count: 7).text == "+PONG\r\n")
            try await c.send("AUTH admin \(server.adminToken)\r\n")
            #expect(await c.read(count: 5).text == "+OK\r\n")
            let quoted = "PING \"hello \\\"docket\\\"\\n\\x41\"\r\nPING 'it\\'s'\r\nPING \"\"\r\nPING single\n"
            try await c.send(quoted)
            let expected = "$16\r\nhello \"docket\"\nA\r\n$4\r\nit's\r\n$0\r\n\r\n$6\r\nsingle\r\n"
            let answer = await c.read(count: expected.utf8.count)
            #expect(answer.text == expected)
            #expect(!answer.closed)
            // A request split across writes is still one request.
            for part in ["*2\r\n$4\r", "\nPING\r\n$", "3\r\nab", "c\r\n"] {
                try await c.send(part)
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(await c.read(count: 9).text == "$3\r\nabc\r\n")
        }
    }

    @Test("10,000 pipelined PINGs in one write get 10,000 replies in order")
    func pipelinedPings() async throws {
        try await TestServer.with { server in
            let c = try await RawConnection.authenticated(port: server.port, token: server.adminToken)
            defer { c.close() }
            var request = ""
            var expected = ""
            for n in 0..<10_000 {
                if n % 2 == 0 {
                    request += "PING\r\n"
                    expected += "+PONG\r\n"
                } else {
                    request += "*2\r\n$4\r\nPING\r\n$\(String(n).utf8.count)\r\n\(n)\r\n"
                    expected += "$\(String(n).utf8.count)\r\n\(n)\r\n"
                }
            }
            let size = expected.utf8.count
            async let answer = c.read(count: size, timeout: .seconds(60))
            try await c.send(request)
            let received = await answer
            #expect(received.bytes.count == size)
            #expect(received.text == expected, "replies out of order or missing")
            #expect(!received.closed)
            // The connection still works afterwards.
            try await c.send("PING\r\n")
            #expect(await c.read(count: 7).text == "+PONG\r\n")
        }
    }

    @Test("wrong argument counts and 1,024-element requests are command errors: the connection stays open")
    func argumentCounts() async throws {
        try await TestServer.with { server in
            let c = try await RawConnection.authenticated(port: server.port, token: server.adminToken)
            defer { c.close() }
            // protocol.tcl "Generic wrong number of args".
            try await c.send("PING x y z\r\n")
            let wrong = "-ERR wrong number of arguments for 'ping' command\r\n"
            #expect(await c.read(count: wrong.utf8.count).text == wrong)
            // The largest request allowed: 1,024 elements, in one write.
            let request = "*1024\r\n$4\r\nPING\r\n" + String(repeating: "$1\r\nx\r\n", count: 1023)
            try await c.send(request + "PING\r\n")
            let answer = await c.read(count: wrong.utf8.count + 7)
            #expect(answer.text == wrong + "+PONG\r\n")
            #expect(!answer.closed)
            // An unknown command is an error reply, not a protocol error.
            try await c.send("NO.SUCH thing\r\nPING\r\n")
            let unknown = "-ERR unknown command 'NO.SUCH' 'thing'\r\n+PONG\r\n"
            #expect(await c.read(count: unknown.utf8.count).text == unknown)
        }
    }

    /// A request pipelined behind AUTH was sent before AUTH succeeded, so the pre-auth limits
    /// apply to it; but AUTH, answered asynchronously, still gets its reply first.
    @Test("requests before a protocol error are answered first, in order")
    func errorAfterPendingRequests() async throws {
        try await TestServer.with { server in
            let c = try await RawConnection.connect(port: server.port)
            defer { c.close() }
            _ = await c.sendAll(Array("AUTH admin \(server.adminToken)\r\nPING a b c d e f g h i j k\r\n".utf8))
            let answer = await c.readToEnd()
            #expect(answer.text == "+OK\r\n-ERR Protocol error: too many arguments before AUTH\r\n")
            #expect(answer.closed)

            let authed = try await RawConnection.authenticated(port: server.port, token: server.adminToken)
            defer { authed.close() }
            _ = await authed.sendAll(Array("ITEM.GET PP-1\r\nWHOAMI\r\nPING\r\n*3000000000\r\nPING\r\n".utf8))
            let replies = await authed.readToEnd()
            #expect(replies.text.hasPrefix("-NOTFOUND item PP-1 not found\r\n*8\r\n$4\r\nuser\r\n$5\r\nadmin\r\n"), "\(replies.text.debugDescription)")
            #expect(replies.text.hasSuffix("+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n"), "\(replies.text.debugDescription)")
            #expect(replies.closed)
        }
    }

    @Test("QUIT answers +OK and closes")
    func quit() async throws {
        try await TestServer.with { server in
            let c = try await RawConnection.connect(port: server.port)
            defer { c.close() }
            try await c.send("PING\r\nQUIT\r\nPING\r\n")
            let answer = await c.readToEnd()
            #expect(answer.text == "+PONG\r\n+OK\r\n")
            #expect(answer.closed)
        }
    }

    /// The bystander connection still answers, and new connections are accepted and served.
    static func expectServerHealthy(_ server: TestServer, bystander: RawConnection) async throws {
        try await bystander.send("PING still-here\r\n")
        let expected = "$10\r\nstill-here\r\n"
        let pong = await bystander.read(count: expected.utf8.count)
        #expect(pong.text == expected, "the already-open connection was disturbed")
        #expect(!pong.closed)
        let fresh = try await RawConnection.connect(port: server.port)
        defer { fresh.close() }
        try await fresh.send("PING\r\n")
        #expect(await fresh.read(count: 7).text == "+PONG\r\n", "new connections are not served")
        let me = try await server.withClient { c in try await c.call("WHOAMI") }
        #expect(me["user"]?.stringValue == "admin")
    }
}
