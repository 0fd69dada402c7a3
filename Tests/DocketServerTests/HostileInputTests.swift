import DocketClient
import DocketTestSupport
import DocketWire
import Foundation
import NIOCore
import Testing
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A blocking TCP socket driven from one thread, for byte-level abuse: dribbling, half-closing,
/// resetting, and holding thousands of connections.
final class HostileSocket: @unchecked Sendable {
    let fd: Int32

    init?(port: Int, receiveTimeout seconds: Int = 30) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            Glibc.close(fd)
            return nil
        }
        self.fd = fd
    }

    deinit { Glibc.close(fd) }

    @discardableResult
    func send(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }

    @discardableResult
    func send(_ text: String) -> Bool { send(Array(text.utf8)) }

    /// Reads until `count` bytes, EOF, or the receive timeout; returns the bytes and whether EOF came.
    func read(atLeast count: Int) -> (bytes: [UInt8], closed: Bool) {
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while out.count < count {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n == 0 { return (out, true) }
            if n < 0 { return (out, errno == ECONNRESET) }
            out.append(contentsOf: buffer[0..<n])
        }
        return (out, false)
    }

    /// Waits up to `milliseconds` for something to read (or EOF).
    func readable(within milliseconds: Int32) -> Bool {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, milliseconds) > 0
    }

    /// Half-closes: no more bytes from this side.
    func shutdownWrite() { shutdown(fd, Int32(SHUT_WR)) }

    /// Closes with a reset (SO_LINGER 0) instead of a FIN.
    func reset() {
        var l = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, socklen_t(MemoryLayout<linger>.size))
        shutdown(fd, Int32(SHUT_RDWR))
    }

    /// Runs blocking work on a thread of its own.
    static func thread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { c in Thread.detachNewThread { c.resume(returning: body()) } }
    }
}

/// Hostile clients of the admin server: byte-at-a-time requests, half-open and reset
/// connections, a pipeline of 100,000 commands, invalid UTF-8 in every text argument, and SQL
/// and shell metacharacters that must come back byte for byte.
@Suite("Hostile input over the admin server", .timeLimit(.minutes(10)))
struct HostileInputTests {
    static func multibulk(_ args: [[UInt8]]) -> [UInt8] {
        var out = Array("*\(args.count)\r\n".utf8)
        for a in args { out += Array("$\(a.count)\r\n".utf8) + a + [13, 10] }
        return out
    }

    static func multibulk(_ args: [String]) -> [UInt8] { multibulk(args.map { Array($0.utf8) }) }

    /// A membership application MA-1 (the admin may create those), for commands to act on.
    static func application(_ server: TestServer) async throws {
        try await server.withClient { admin in
            try await EurasiaSection.setUp(admin)
            let item = try await admin.call("ITEM.CREATE", "membership-application", "Application of Osh", "FIELD", "applicant", "Osh")
            #expect(item["id"]?.stringValue == "MA-1")
        }
    }

    @Test("slowloris: 20 connections sending one byte at a time are answered; a bystander is served meanwhile")
    func slowloris() async throws {
        try await TestServer.with { server in
            try await Self.application(server)
            let port = server.port
            let token = server.adminToken
            let dribblers = 20
            let tasks = (0..<dribblers).map { n in
                Task {
                    await HostileSocket.thread { () -> (String, Int) in
                        guard let s = HostileSocket(port: port) else { return ("no connection", 0) }
                        let request = Array("AUTH admin \(token)\r\n".utf8) + Self.multibulk(["ITEM.COMMENT", "MA-1", "slow \(n)"])
                        for byte in request {
                            guard s.send([byte]) else { return ("send failed", 0) }
                            usleep(3_000)
                        }
                        let got = s.read(atLeast: 5 + 4)
                        // Read the rest of the event map.
                        var bytes = got.bytes
                        while !String(decoding: bytes, as: UTF8.self).contains("slow \(n)"), s.readable(within: 10_000) {
                            let more = s.read(atLeast: 1)
                            bytes += more.bytes
                            if more.closed { break }
                        }
                        return (String(decoding: bytes, as: UTF8.self), request.count)
                    }
                }
            }
            // Meanwhile a bystander keeps working, unaffected.
            let answered = try await server.withClient { admin in
                var n = 0
                for i in 0..<40 {
                    #expect(try await admin.call("PING", "b\(i)").stringValue == "b\(i)")
                    #expect(try await admin.call("ITEM.GET", "MA-1")["id"]?.stringValue == "MA-1")
                    n += 2
                    try await Task.sleep(for: .milliseconds(10))
                }
                return n
            }
            var bytes = 0
            for (n, task) in tasks.enumerated() {
                let (text, sent) = await task.value
                bytes += sent
                #expect(text.hasPrefix("+OK\r\n*24\r\n"), "dribbler \(n): \(text.prefix(120).debugDescription)")
                #expect(text.contains("slow \(n)"))
            }
            let history = try await server.withClient { admin in try await admin.call("ITEM.HISTORY", "MA-1").arrayValue ?? [] }
            let comments = Set(history.compactMap { $0["comment"]?.stringValue })
            #expect(comments == Set((0..<dribblers).map { "slow \($0)" }))
            print("slowloris: \(dribblers) connections sent \(bytes) bytes one at a time, each answered; the bystander got \(answered) answers meanwhile")
        }
    }

    @Test("half-open connections: a partial request waits, a half-close or reset drops it, nothing else is disturbed")
    func halfOpen() async throws {
        try await TestServer.with { server in
            try await Self.application(server)
            let port = server.port
            let token = server.adminToken
            let bystander = try await RawConnection.authenticated(port: port, token: token)
            defer { bystander.close() }

            // 1. A partial request, then silence: nothing is answered, the connection stays.
            let (silentReply, completedReply): (([UInt8], Bool), ([UInt8], Bool)) = await HostileSocket.thread {
                guard let s = HostileSocket(port: port) else { return (([], true), ([], true)) }
                s.send("AUTH admin \(token)\r\n")
                _ = s.read(atLeast: 5)
                s.send("*2\r\n$4\r\nECHO\r\n$5\r\nhel")
                let waited = s.readable(within: 500)
                s.send("lo\r\n")
                let r = s.read(atLeast: 11)
                return ((waited ? [1] : [], false), (r.bytes, r.closed))
            }
            #expect(silentReply.0.isEmpty, "a partial request was answered")
            #expect(String(decoding: completedReply.0, as: UTF8.self) == "$5\r\nhello\r\n", "the completed request was not answered")

            // 2. Many connections each holding a partial request; the server serves the bystander.
            let held: [HostileSocket] = await HostileSocket.thread {
                (0..<200).compactMap { n -> HostileSocket? in
                    guard let s = HostileSocket(port: port) else { return nil }
                    s.send(n % 2 == 0 ? "*3\r\n$4\r\nAUTH\r\n$5\r\nadmin\r\n$64\r\nabc" : "AUTH admin dkt_")
                    return s
                }
            }
            #expect(held.count == 200)
            try await ProtocolLimitTests.expectServerHealthy(server, bystander: bystander)

            // 3. A partial request, then the client shuts its write side: dropped, connection closed.
            let halfClosed: ([UInt8], Bool) = await HostileSocket.thread {
                guard let s = HostileSocket(port: port, receiveTimeout: 10) else { return ([], false) }
                s.send("*2\r\n$4\r\nPING\r\n$10\r\nabc")
                s.shutdownWrite()
                let r = s.read(atLeast: 1)
                return (r.bytes, r.closed)
            }
            #expect(halfClosed.0.isEmpty, "an incomplete request was answered: \(String(decoding: halfClosed.0, as: UTF8.self).debugDescription)")
            #expect(halfClosed.1, "the server kept a half-closed connection with an incomplete request")

            // 4. Resets in the middle of requests, before and after AUTH.
            await HostileSocket.thread {
                for n in 0..<50 {
                    guard let s = HostileSocket(port: port) else { continue }
                    if n % 2 == 1 {
                        s.send("AUTH admin \(token)\r\n")
                        _ = s.read(atLeast: 5)
                    }
                    s.send(Self.multibulk(["ITEM.COMMENT", "MA-1", "never finished"]).dropLast(7).map { $0 })
                    s.reset()
                }
            }
            for s in held { s.reset() }
            try await ProtocolLimitTests.expectServerHealthy(server, bystander: bystander)
            // Nothing from the dropped requests was applied, and the server counts the connections closed.
            try await server.withClient { admin in
                let history = try await admin.call("ITEM.HISTORY", "MA-1").arrayValue ?? []
                #expect(!history.contains { $0["comment"]?.stringValue == "never finished" })
                var connected = -1
                for _ in 0..<100 {
                    let info = try await admin.call("INFO", "clients").stringValue ?? ""
                    connected = info.split(separator: "\r\n").first { $0.hasPrefix("connected_clients:") }.flatMap { Int($0.dropFirst(18)) } ?? -1
                    if connected == 2 { break }
                    try await Task.sleep(for: .milliseconds(50))
                }
                #expect(connected == 2, "connected_clients is \(connected): the bystander and this client should be all")
            }
            print("half-open: 1 partial request held and completed, 200 partial requests held at once, 1 half-close, 50 resets; bystander unaffected")
        }
    }

    @Test("a complete request followed by a half-close is still answered")
    func requestThenHalfClose() async throws {
        try await TestServer.with { server in
            try await Self.application(server)
            let port = server.port
            let token = server.adminToken
            // PING is answered at once; ITEM.GET needs the database, so its answer comes after the FIN.
            let (reply, closed, waited): (String, Bool, Duration) = await HostileSocket.thread {
                guard let s = HostileSocket(port: port, receiveTimeout: 10) else { return ("", false, .zero) }
                let start = ContinuousClock.now
                s.send("AUTH admin \(token)\r\nPING\r\nITEM.GET MA-1\r\nPING last\r\n")
                s.shutdownWrite()
                var bytes: [UInt8] = []
                var closed = false
                while true {
                    let r = s.read(atLeast: 1)
                    bytes += r.bytes
                    if r.closed { closed = true }
                    if r.closed || r.bytes.isEmpty { break }
                }
                return (String(decoding: bytes, as: UTF8.self), closed, ContinuousClock.now - start)
            }
            print("half-close after a complete pipeline: \(reply.utf8.count) bytes answered, connection \(closed ? "closed" : "left open") after \(waited)")
            #expect(closed, "the server neither answered nor closed a half-closed connection within 10 s")
            // Like `printf 'AUTH ...\r\nITEM.GET MA-1\r\n' | nc -N host port`: every reply, then the close.
            #expect(reply.hasPrefix("+OK\r\n+PONG\r\n*30\r\n$2\r\nid\r\n$4\r\nMA-1\r\n"), "\(reply.prefix(80).debugDescription)")
            #expect(reply.hasSuffix("$4\r\nlast\r\n"), "\(reply.suffix(40).debugDescription)")
        }
    }

    @Test("a pipeline of 100,000 commands in one write is answered in order")
    func pipeline100k() async throws {
        try await TestServer.with { server in
            try await Self.application(server)
            let c = try await RawConnection.authenticated(port: server.port, token: server.adminToken)
            defer { c.close() }
            // The exact bytes ITEM.GET MA-1 answers (the item does not change during the run).
            try await c.send("ITEM.GET MA-1\r\nPING end-of-item\r\n")
            let first = await c.read(until: { String(decoding: $0, as: UTF8.self).hasSuffix("$11\r\nend-of-item\r\n") }, timeout: .seconds(10))
            let itemReply = String(decoding: first.bytes.dropLast("$11\r\nend-of-item\r\n".utf8.count), as: UTF8.self)
            #expect(itemReply.hasPrefix("*30\r\n$2\r\nid\r\n$4\r\nMA-1\r\n"))
            var request: [UInt8] = []
            var expected: [UInt8] = []
            request.reserveCapacity(3_000_000)
            expected.reserveCapacity(3_000_000)
            var database = 0
            for n in 0..<100_000 {
                switch n % 100 {
                case 0:
                    request += Array("ITEM.GET MA-1\r\n".utf8)
                    expected += Array(itemReply.utf8)
                    database += 1
                case 1, 2, 3:
                    request += Array("PING\r\n".utf8)
                    expected += Array("+PONG\r\n".utf8)
                case 50:
                    request += Array("NO.SUCH \(n)\r\n".utf8)
                    expected += Array("-ERR unknown command 'NO.SUCH' '\(n)'\r\n".utf8)
                default:
                    let word = String(n)
                    request += HostileInputTests.multibulk(["ECHO", word])
                    expected += Array("$\(word.utf8.count)\r\n\(word)\r\n".utf8)
                }
            }
            let size = expected.count
            async let answer = c.read(count: size, timeout: .seconds(240))
            try await c.send(request)
            let received = await answer
            #expect(received.bytes.count == size, "\(received.bytes.count) of \(size) bytes answered")
            if received.bytes != expected {
                let at = zip(received.bytes, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(received.bytes.count, expected.count)
                Issue.record("replies differ from byte \(at): \(String(decoding: received.bytes[max(0, at - 200)..<min(received.bytes.count, at + 80)], as: UTF8.self).debugDescription), expected \(String(decoding: expected[max(0, at - 200)..<min(expected.count, at + 80)], as: UTF8.self).debugDescription)")
            }
            #expect(!received.closed)
            try await c.send("PING\r\n")
            #expect(await c.read(count: 7).text == "+PONG\r\n")
            print("pipeline: 100000 commands (\(database) reading the database) in one write of \(request.count) bytes, \(size) bytes of replies in order")
        }
    }

    /// Byte sequences that are not UTF-8: a stray continuation, a truncated sequence, an overlong
    /// NUL, a surrogate, a code point past U+10FFFF, 0xFF, and a bad byte between good text.
    static let invalidUTF8: [[UInt8]] = [
        [0x80], [0xC3], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xFF], Array("Алма".utf8) + [0xFE] + Array("ты".utf8),
    ]

    /// Every text argument of every command, as (arguments, index of the text argument).
    static let textArguments: [([String], Int)] = [
        (["ITEM.CREATE", "membership-application", "T", "FIELD", "applicant", "A"], 2),
        (["ITEM.CREATE", "membership-application", "T", "FIELD", "applicant", "A"], 4),
        (["ITEM.CREATE", "membership-application", "T", "FIELD", "applicant", "A"], 5),
        (["ITEM.CREATE", "membership-application", "T", "THEME", "sustainability"], 4),
        (["ITEM.CREATE", "membership-application", "T", "KEY", "k"], 4),
        (["ITEM.CREATE", "membership-application", "T"], 1),
        (["ITEM.SET", "MA-1", "applicant", "A"], 3),
        (["ITEM.SET", "MA-1", "applicant", "A"], 2),
        (["ITEM.SET", "MA-1", "applicant", "A"], 1),
        (["ITEM.FIRE", "MA-1", "check", "COMMENT", "c"], 4),
        (["ITEM.FIRE", "MA-1", "check", "COMMENT", "c"], 2),
        (["ITEM.FIRE", "MA-1", "check", "KEY", "k"], 4),
        (["ITEM.COMMENT", "MA-1", "c"], 2),
        (["ITEM.REVISE", "MA-1", "text"], 2),
        (["ITEM.REVISE", "MA-1", "text", "NOTE", "n"], 4),
        (["ITEM.GET", "MA-1"], 1),
        (["ITEM.LIST", "THEME", "t"], 2),
        (["ITEM.EXPLAIN", "MA-1", "check"], 2),
        (["REVIEW.VOTE", "MA-1", "approve", "COMMENT", "c"], 4),
        (["REVIEW.ASSIGN", "MA-1", "bruno"], 2),
        (["ENDORSE", "MA-1", "almaty", "COMMENT", "c"], 4),
        (["ENDORSE", "MA-1", "almaty"], 2),
        (["MILESTONE.ADD", "MA-1", "m"], 2),
        (["MEMBER.ADD", "osh", "Ош", "KIND", "city", "COUNTRY", "KG", "SECTION", "Eurasia"], 1),
        (["MEMBER.ADD", "osh", "Ош", "KIND", "city", "COUNTRY", "KG", "SECTION", "Eurasia"], 2),
        (["MEMBER.ADD", "osh", "Ош", "KIND", "city", "COUNTRY", "KG", "SECTION", "Eurasia"], 4),
        (["MEMBER.ADD", "osh", "Ош", "KIND", "city", "COUNTRY", "KG", "SECTION", "Eurasia"], 6),
        (["MEMBER.ADD", "osh", "Ош", "KIND", "city", "COUNTRY", "KG", "SECTION", "Eurasia"], 8),
        (["USER.ADD", "zara", "Zara"], 1),
        (["USER.ADD", "zara", "Zara"], 2),
        (["USER.GRANT", "ana", "chair", "GROUP", "sustainability-wg"], 4),
        (["GROUP.ADD", "g", "Group", "THEME", "sustainability"], 1),
        (["GROUP.ADD", "g", "Group", "THEME", "sustainability"], 2),
        (["THEME.ADD", "t", "Theme"], 1),
        (["THEME.ADD", "t", "Theme"], 2),
        (["TOKEN.CREATE", "ana"], 1),
        (["WORKFLOW.CHECK", "workflow: x"], 1),
        (["WORKFLOW.LOAD", "workflow: x"], 1),
        (["WORKFLOW.GET", "policy-paper"], 1),
        (["REPORT.WAITING", "USER", "ana"], 2),
        (["CLIENT", "SETNAME", "name"], 2),
        (["HELLO", "2", "SETNAME", "name"], 3),
        (["PING", "hello"], 1),
        (["NO.SUCH", "x"], 1),
    ]

    @Test("invalid UTF-8 in any text argument: -INVALID naming the argument, nothing stored, the connection stays")
    func invalidUTF8() async throws {
        try await TestServer.with { server in
            try await Self.application(server)
            let before = try await server.withClient { admin in
                (try await admin.call("ITEM.HISTORY", "MA-1").arrayValue?.count ?? -1,
                 try await admin.call("MEMBER.LIST").arrayValue?.count ?? -1, try await admin.call("USER.LIST").arrayValue?.count ?? -1,
                 try await admin.call("GROUP.LIST").arrayValue?.count ?? -1, try await admin.call("THEME.LIST").arrayValue?.count ?? -1,
                 try await admin.call("ITEM.LIST").arrayValue?.count ?? -1)
            }
            let c = try await RawConnection.authenticated(port: server.port, token: server.adminToken)
            defer { c.close() }
            var cases = 0
            for (args, index) in Self.textArguments {
                for bad in Self.invalidUTF8 {
                    var raw = args.map { Array($0.utf8) }
                    raw[index] = Array("x".utf8) + bad
                    try await c.send(Self.multibulk(raw) + Array("PING\r\n".utf8))
                    let expected = "-INVALID argument \(index + 1) is not valid UTF-8\r\n+PONG\r\n"
                    let got = await c.read(count: expected.utf8.count)
                    #expect(got.text == expected, "\(args[0]) argument \(index + 1) = \(raw[index]): \(got.text.debugDescription)")
                    #expect(!got.closed)
                    cases += 1
                }
            }
            // Before AUTH too: the user name and the token.
            for index in [1, 2] {
                let fresh = try await RawConnection.connect(port: server.port)
                defer { fresh.close() }
                var raw = ["AUTH", "admin", server.adminToken].map { Array($0.utf8) }
                raw[index] += [0xFF]
                try await fresh.send(Self.multibulk(raw) + Array("PING\r\n".utf8))
                let expected = "-INVALID argument \(index + 1) is not valid UTF-8\r\n+PONG\r\n"
                #expect(await fresh.read(count: expected.utf8.count).text == expected)
                cases += 1
            }
            // ECHO alone is binary-safe (redis-cli --pipe relies on it): the bytes come back as sent.
            try await c.send(Self.multibulk([Array("ECHO".utf8), [0xFF, 0x00, 0xC0, 0x80]]))
            #expect(await c.read(count: 10).bytes == Array("$4\r\n".utf8) + [0xFF, 0x00, 0xC0, 0x80, 13, 10])
            let after = try await server.withClient { admin in
                (try await admin.call("ITEM.HISTORY", "MA-1").arrayValue?.count ?? -1,
                 try await admin.call("MEMBER.LIST").arrayValue?.count ?? -1, try await admin.call("USER.LIST").arrayValue?.count ?? -1,
                 try await admin.call("GROUP.LIST").arrayValue?.count ?? -1, try await admin.call("THEME.LIST").arrayValue?.count ?? -1,
                 try await admin.call("ITEM.LIST").arrayValue?.count ?? -1)
            }
            #expect(after == before, "something was stored: \(before) -> \(after)")
            print("invalid UTF-8: \(cases) cases (\(Self.textArguments.count) text arguments x \(Self.invalidUTF8.count) byte sequences, and AUTH), each refused with -INVALID naming the argument")
        }
    }

    /// Text that has broken other systems: SQL, shell, format strings, RESP framing, LIKE
    /// wildcards, Unicode that normalises or reverses, control characters.
    static let nasty: [String] = [
        "Robert'); DROP TABLE items;--", "' OR '1'='1", "\"; DELETE FROM events; --", "1; SELECT pg_sleep(10)", "$1", "$$ $body$ $$",
        "E'\\x41'", "\\x00", "\\", "\\\\'", "/* comment */", "-- comment", "%", "_", "%_%", "[a-z]*", "NULL", "null", "\\N",
        "$(rm -rf /)", "`id`", "; ls -la", "| cat /etc/passwd", "&& shutdown -h now", "> /dev/sda", "< /etc/shadow", "~root", "!!", "*?",
        "%s%n%x%d", "{{7*7}}", "${HOME}", "<script>alert(1)</script>", "\r\n-ERR fake\r\n+OK\r\n", "*1\r\n$4\r\nQUIT\r\n",
        "tab\there", "trailing space ", " leading", "line1\nline2", "café", "cafe\u{301}", "Ω", "\u{202E}gnp.exe", "👩‍👩‍👧", "ゼロ",
        "\u{7}\u{1B}[31mred", String(repeating: "x", count: 10_000),
    ]

    @Test("SQL and shell metacharacters in titles, fields, comments, texts and names come back byte for byte")
    func metacharacters() async throws {
        try await TestServer.with { server in
            try await server.withClient { admin in
                try await EurasiaSection.setUp(admin)
                try await admin.call("USER.GRANT", "admin", "secretariat")
            }
            let checked = try await server.withClient { admin in
                var checked = 0
                for (n, text) in Self.nasty.enumerated() {
                    func same(_ value: RESPValue?, _ what: String) {
                        #expect(value?.stringValue.map { Array($0.utf8) } == Array(text.utf8), "\(what) of \(text.prefix(40).debugDescription): \(String(describing: value).prefix(80))")
                        checked += 1
                    }
                    let item = try await admin.call("ITEM.CREATE", "membership-application", text, "FIELD", "applicant", text,
                                                    "FIELD", "section", text, "KEY", text)
                    let id = try #require(item["id"]?.stringValue)
                    same(item["title"], "ITEM.CREATE title")
                    same(item["fields"]?["applicant"], "ITEM.CREATE field")
                    try await admin.call("ITEM.COMMENT", id, text)
                    try await admin.call("ITEM.REVISE", id, text, "NOTE", text)
                    try await admin.call("ITEM.SET", id, "country", text)
                    let fired = try await admin.call("ITEM.FIRE", id, "check", "COMMENT", text)
                    same(fired["comment"], "ITEM.FIRE comment")
                    let got = try await admin.call("ITEM.GET", id)
                    same(got["title"], "ITEM.GET title")
                    same(got["fields"]?["applicant"], "ITEM.GET applicant")
                    same(got["fields"]?["section"], "ITEM.GET section")
                    same(got["fields"]?["country"], "ITEM.GET country")
                    same(try await admin.call("ITEM.TEXT", id), "ITEM.TEXT")
                    let history = try await admin.call("ITEM.HISTORY", id).arrayValue ?? []
                    same(history.first { $0["type"]?.stringValue == "comment" }?["comment"], "ITEM.HISTORY comment")
                    same(history.first { $0["type"]?.stringValue == "revision" }?["data"]?["note"], "ITEM.HISTORY revision note")
                    // The same KEY again answers the first creation.
                    let again = try await admin.call("ITEM.CREATE", "membership-application", text, "FIELD", "applicant", text,
                                                     "FIELD", "section", text, "KEY", text)
                    #expect(again["id"]?.stringValue == id)
                    // Names in the directory are free text; slugs and handles are not.
                    let slug = "m\(n)"
                    try await admin.call("MEMBER.ADD", slug, text, "COUNTRY", text, "SECTION", text)
                    let member = (try await admin.call("MEMBER.LIST").arrayValue ?? []).first { $0["slug"]?.stringValue == slug }
                    same(member?["name"], "MEMBER.LIST name")
                    same(member?["country"], "MEMBER.LIST country")
                    same(member?["section"], "MEMBER.LIST section")
                    let handle = "u\(n)"
                    try await admin.call("USER.ADD", handle, text, "MEMBER", slug)
                    let user = (try await admin.call("USER.LIST").arrayValue ?? []).first { $0["handle"]?.stringValue == handle }
                    same(user?["name"], "USER.LIST name")
                    let token = try #require(try await admin.call("TOKEN.CREATE", handle).stringValue)
                    let who = try await server.withClient(user: handle, token: token) { c in try await c.call("WHOAMI") }
                    same(who["name"], "WHOAMI name")
                    try await admin.call("GROUP.ADD", "g\(n)", text)
                    try await admin.call("THEME.ADD", "t\(n)", text)
                    // As a slug or handle it is refused as INVALID, never run.
                    let plain = text.utf8.allSatisfy { (97...122).contains($0) || (48...57).contains($0) || $0 == 45 || $0 == 46 || $0 == 95 }
                    for args in [["MEMBER.ADD", "x" + text, "n"], ["USER.ADD", "x" + text, "n"], ["GROUP.ADD", "x" + text, "n"], ["THEME.ADD", "x" + text, "n"]] where !plain {
                        do {
                            try await admin.call(args)
                            Issue.record("\(args[0]) accepted the slug \(args[1].prefix(40).debugDescription)")
                        } catch let error as ServerError {
                            #expect(error.code == "INVALID", "\(args[0]) \(args[1].prefix(40).debugDescription): \(error.line)")
                        }
                        checked += 1
                    }
                    // As a filter it matches only itself: no wildcard, no injection.
                    #expect((try await admin.call("ITEM.LIST", "THEME", text).arrayValue ?? []).isEmpty)
                    #expect((try await admin.call("ITEM.LIST", "GROUP", text).arrayValue ?? []).isEmpty)
                }
                let groups = try await admin.call("GROUP.LIST").arrayValue ?? []
                let themes = try await admin.call("THEME.LIST").arrayValue ?? []
                for (n, text) in Self.nasty.enumerated() {
                    #expect(groups.first { $0["slug"]?.stringValue == "g\(n)" }?["name"]?.stringValue.map { Array($0.utf8) } == Array(text.utf8))
                    #expect(themes.first { $0["slug"]?.stringValue == "t\(n)" }?["name"]?.stringValue.map { Array($0.utf8) } == Array(text.utf8))
                    checked += 2
                }
                #expect(Set((try await admin.call("MEMBER.LIST").arrayValue ?? []).compactMap { $0["slug"]?.stringValue }).count == 4 + Self.nasty.count)
                let audit = try await admin.call("AUDIT.VERIFY")
                #expect(audit["ok"]?.boolValue == true)
                #expect(audit["items"]?.intValue == Self.nasty.count)
                return checked
            }
            print("metacharacters: \(Self.nasty.count) hostile strings stored through 15 commands and refused as slugs, \(checked) values compared byte for byte")
        }
    }

    @Test("NUL and other control characters in text: refused with -INVALID or stored exactly, never an UNAVAILABLE")
    func controlCharacters() async throws {
        try await TestServer.with { server in
            try await server.withClient { admin in
                try await EurasiaSection.setUp(admin)
                try await admin.call("USER.GRANT", "admin", "secretariat")
            }
            try await server.withClient { admin in
                var cases = 0
                for text in ["a\u{0}b", "\u{0}", "a\u{1}b\u{1F}c\u{7F}"] {
                    let attempts: [[String]] = [
                        ["ITEM.CREATE", "membership-application", text], ["ITEM.CREATE", "membership-application", "T", "FIELD", "applicant", text],
                        ["ITEM.COMMENT", "MA-1", text], ["ITEM.REVISE", "MA-1", text], ["ITEM.REVISE", "MA-1", "t", "NOTE", text],
                        ["ITEM.SET", "MA-1", "applicant", text], ["ITEM.FIRE", "MA-1", "decline", "COMMENT", text],
                        ["MEMBER.ADD", "x" + text, "n"], ["MEMBER.ADD", "y", text], ["USER.ADD", "h" + text, "n"], ["USER.ADD", "h2", text],
                        ["GROUP.ADD", "g" + text, "n"], ["THEME.ADD", "t" + text, "n"], ["ITEM.CREATE", "membership-application", "T", "KEY", text],
                    ]
                    if (try? await admin.call("ITEM.GET", "MA-1")) == nil {
                        try await admin.call("ITEM.CREATE", "membership-application", "Plain")
                    }
                    for args in attempts {
                        cases += 1
                        do {
                            let reply = try await admin.call(args)
                            // Stored: it must come back exactly.
                            if args[0] == "ITEM.CREATE", args.count == 3 {
                                #expect(reply["title"]?.stringValue.map { Array($0.utf8) } == Array(text.utf8))
                            }
                        } catch let error as ServerError {
                            #expect(error.code == "INVALID", "\(args[0]) with \(text.debugDescription): \(error.line)")
                        }
                    }
                    #expect(try await admin.call("PING").stringValue == "PONG")
                }
                print("control characters: \(cases) commands with NUL or control characters answered as data or -INVALID")
            }
        }
    }
}

/// 10,000 connections held open at once against the real `docket serve` binary, run as a
/// process of its own so that the two ends of every connection do not share one descriptor
/// table. Each connection is served (PING answered), the one past `--max-connections` is
/// refused, and the first stays usable throughout.
@Suite("Many connections held at once", .timeLimit(.minutes(10)))
struct ManyConnectionsTests {
    /// Raises this process's descriptor limit to its hard limit (children inherit it); returns it.
    static func raiseDescriptorLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return Int(min(limit.rlim_cur, 1 << 30))
    }

    /// Connects `count` sockets from `threads` threads; each sends PING and reads +PONG.
    static func open(_ count: Int, port: Int, threads: Int = 8) async -> [HostileSocket] {
        await withTaskGroup(of: [HostileSocket].self) { group in
            for t in 0..<threads {
                let share = count / threads + (t < count % threads ? 1 : 0)
                group.addTask {
                    await HostileSocket.thread {
                        var out: [HostileSocket] = []
                        for _ in 0..<share {
                            guard let s = HostileSocket(port: port, receiveTimeout: 60) else { break }
                            s.send("PING\r\n")
                            guard s.read(atLeast: 7).bytes == Array("+PONG\r\n".utf8) else { break }
                            out.append(s)
                        }
                        return out
                    }
                }
            }
            var all: [HostileSocket] = []
            for await part in group { all += part }
            return all
        }
    }

    /// Sends `PING n` on every socket and counts the right answers.
    static func pingAll(_ sockets: [HostileSocket], threads: Int = 8) async -> Int {
        await withTaskGroup(of: Int.self) { group in
            for t in 0..<threads {
                let mine = stride(from: t, to: sockets.count, by: threads).map { sockets[$0] }
                group.addTask {
                    await HostileSocket.thread {
                        var ok = 0
                        for (i, s) in mine.enumerated() {
                            let word = "c\(t)-\(i)"
                            s.send("PING \(word)\r\n")
                            let expected = Array("$\(word.utf8.count)\r\n\(word)\r\n".utf8)
                            if s.read(atLeast: expected.count).bytes == expected { ok += 1 }
                        }
                        return ok
                    }
                }
            }
            return await group.reduce(0, +)
        }
    }

    static func connectedClients(_ admin: DocketClient) async throws -> Int {
        let info = try await admin.call("INFO", "clients").stringValue ?? ""
        return info.split(separator: "\r\n").first { $0.hasPrefix("connected_clients:") }.flatMap { Int($0.dropFirst(18)) } ?? -1
    }

    @Test("10,000 connections held at once, each served; the next one refused; all released")
    func tenThousand() async throws {
        let descriptors = Self.raiseDescriptorLimit()
        // Headroom for everything else this test process runs alongside.
        let target = min(10_000, descriptors - 2_000)
        try #require(target >= 1_000, "the descriptor limit (\(descriptors)) is too low to hold even 1,000 connections")
        let docket = CLI.docketPath
        try #require(FileManager.default.isExecutableFile(atPath: docket), "build the docket binary first: \(docket)")
        try await TestDatabase.withDatabase { url in
            try await withTemporaryDirectory { scratch in
                let data = scratch + "/data"
                let root = TestDatabase.packageRoot.path
                let process = try await BackgroundProcess.start(
                    [docket, "serve", "--listen", "127.0.0.1:0", "--data-dir", data, "--database-url", url.connectionString,
                     "--workflows", root + "/Workflows", "--max-connections", String(target)],
                    in: root, scratch: scratch, environment: ["DOCKET_LOG_LEVEL": "warning"])
                defer { process.stop() }
                let line = try await process.waitForLine(timeout: .seconds(60)) { $0.hasPrefix("listening on ") }
                let listening = try #require(line, "no listening line; stderr:\n\(process.stderr)")
                let port = try #require(Int(listening.split(separator: ":").last ?? ""))
                let token = try String(contentsOfFile: data + "/admin.token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)

                let admin = try await DocketClient.connect(to: ServerAddress(host: "127.0.0.1", port: port), timeout: .seconds(60))
                try await admin.auth(user: "admin", token: token)
                let held = await Self.open(target - 1, port: port)
                #expect(held.count == target - 1, "held \(held.count) connections besides the admin's, wanted \(target - 1)")
                #expect(try await Self.connectedClients(admin) == target)

                // One more is refused, politely, and closed.
                let refused: ([UInt8], Bool) = await HostileSocket.thread {
                    guard let s = HostileSocket(port: port, receiveTimeout: 10) else { return ([], true) }
                    let r = s.read(atLeast: 64)
                    return (r.bytes, r.closed)
                }
                #expect(String(decoding: refused.0, as: UTF8.self) == "-ERR max number of clients reached\r\n")
                #expect(refused.1)

                // Every held connection still answers, and the admin's works meanwhile.
                async let pinged = Self.pingAll(held)
                let whoami = try await admin.call("WHOAMI")
                #expect(whoami["user"]?.stringValue == "admin")
                let answered = await pinged
                #expect(answered == held.count)
                let peak = try await Self.connectedClients(admin)

                // Released: the count drops back, and a new connection is served.
                for s in held { s.reset() }
                var after = -1
                for _ in 0..<200 {
                    after = try await Self.connectedClients(admin)
                    if after == 1 { break }
                    try await Task.sleep(for: .milliseconds(50))
                }
                #expect(after == 1, "connected_clients stayed at \(after) after the connections closed")
                let fresh = await Self.open(1, port: port, threads: 1)
                #expect(fresh.count == 1)
                await admin.close()
                print("many connections: held \(held.count + 1) connections at once (limit \(target), descriptors \(descriptors)); "
                      + "connected_clients \(peak); all \(answered) answered PING twice; the next one refused; back to \(after) after release")
            }
        }
    }
}
