import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A plain TCP connection for byte-level tests, with no RESP client in the way.
///
/// Socket calls block, so each runs on a thread of its own, never on the cooperative pool.
/// Every wait is bounded by a deadline.
final class RawConnection: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// What a read saw: the bytes, and whether the peer closed (EOF or reset) before the deadline.
    struct Received: Sendable {
        var bytes: [UInt8]
        var closed: Bool
        var text: String { String(decoding: bytes, as: UTF8.self) }
    }

    private let fd: Int32
    private let lock = NSLock()
    private var isClosed = false

    private init(fd: Int32) { self.fd = fd }

    deinit { close() }

    /// Connects to `host:port` (IPv4).
    static func connect(port: Int, host: String = "127.0.0.1") async throws -> RawConnection {
        try await blocking {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            inet_pton(AF_INET, host, &address.sin_addr)
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard result == 0 else {
                let message = String(cString: strerror(errno))
                Glibc.close(fd)
                throw Failure(description: "connect to \(host):\(port): \(message)")
            }
            return RawConnection(fd: fd)
        }
    }

    /// Whether something accepts connections on `host:port` right now.
    static func canConnect(port: Int, host: String = "127.0.0.1") async -> Bool {
        guard let c = try? await connect(port: port, host: host) else { return false }
        c.close()
        return true
    }

    /// Connects and authenticates with an inline AUTH.
    static func authenticated(port: Int, user: String = "admin", token: String) async throws -> RawConnection {
        let c = try await connect(port: port)
        try await c.send("AUTH \(user) \(token)\r\n")
        let reply = await c.read(until: { $0.count >= 5 }, timeout: .seconds(10))
        guard reply.text == "+OK\r\n" else { throw Failure(description: "AUTH answered \(reply.text.debugDescription)") }
        return c
    }

    /// Sends everything; throws if the peer closed or reset the connection.
    func send(_ text: String) async throws { try await send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) async throws {
        let sent = await sendAll(bytes)
        guard sent == bytes.count else { throw Failure(description: "send stopped after \(sent) of \(bytes.count) bytes: the peer closed") }
    }

    /// Sends as much of `bytes` as the peer takes; returns how many bytes went out before an
    /// error (reset, broken pipe, or a 10 s send timeout).
    func sendAll(_ bytes: [UInt8]) async -> Int {
        let fd = self.fd
        return await Self.blocking {
            var offset = 0
            while offset < bytes.count {
                let n = bytes.withUnsafeBytes { raw in
                    Glibc.send(fd, raw.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
                }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                offset += n
            }
            return offset
        }
    }

    /// Keeps sending `chunk` after `prefix` until the peer stops taking bytes or `limit` bytes
    /// went out, like Redis' protocol desync tests. Returns the bytes sent.
    func flood(prefix: [UInt8], chunk: [UInt8], limit: Int) async -> Int {
        var total = await sendAll(prefix)
        guard total == prefix.count else { return total }
        while total < limit {
            let n = await sendAll(chunk)
            total += n
            if n < chunk.count { break }
        }
        return total
    }

    /// Reads until `done(bytes)` holds, the peer closes, or `timeout` passes.
    func read(until done: @escaping @Sendable ([UInt8]) -> Bool, timeout: Duration) async -> Received {
        let fd = self.fd
        let deadline = ContinuousClock.now + timeout
        return await Self.blocking {
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            while !done(bytes) {
                let left = ContinuousClock.now.duration(to: deadline)
                guard left > .zero else { return Received(bytes: bytes, closed: false) }
                var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let ms = Int32(min(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1, 60_000))
                let ready = poll(&descriptor, 1, ms)
                if ready < 0 && errno == EINTR { continue }
                if ready <= 0 { continue }
                let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return Received(bytes: bytes, closed: true) }
                bytes.append(contentsOf: buffer[0..<n])
            }
            return Received(bytes: bytes, closed: false)
        }
    }

    /// Reads everything until the peer closes or `timeout` passes.
    func readToEnd(timeout: Duration = .seconds(10)) async -> Received {
        await read(until: { _ in false }, timeout: timeout)
    }

    /// Reads until `count` bytes arrived (or the peer closes, or the timeout).
    func read(count: Int, timeout: Duration = .seconds(10)) async -> Received {
        await read(until: { $0.count >= count }, timeout: timeout)
    }

    func close() {
        lock.withLock {
            guard !isClosed else { return }
            isClosed = true
            Glibc.close(fd)
        }
    }

    /// Runs blocking work on a fresh thread.
    static func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
        }
    }

    static func blocking<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: body()) }
        }
    }
}
