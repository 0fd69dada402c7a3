import DocketWire
import Foundation

/// How `docket serve` listens and what it allows.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    /// 0 picks a free port; `AdminServer.boundAddress` tells which.
    public var port = 7433
    public var tlsCertificate: String?
    public var tlsKey: String?
    public var limits = RESPLimits.default
    /// Idle connections are closed after this long; nil keeps them.
    public var idleTimeout: Duration?
    public var maxConnections = 10_000
    /// A watcher whose unsent output passes this many bytes is disconnected.
    public var watcherOutputLimit = 8 * 1024 * 1024
    /// How often the event sequencer looks for committed events it was not told of (this
    /// instance's commands wake it at once).
    public var sequencerInterval: Duration = .milliseconds(100)
    /// Refused AUTH attempts a connection gets before each further one is delayed...
    public var authFailuresBeforeDelay = 5
    /// ...by this much more per attempt (at most ten steps)...
    public var authFailureDelay: Duration = .milliseconds(500)
    /// ...and after this many the connection is closed.
    public var authFailuresBeforeClose = 10
    /// The PostgreSQL pool's size, for INFO and the metrics.
    public var poolSize = 20

    public init() {}

    /// Parses `HOST:PORT`, `[::1]:PORT` or `:PORT`.
    public mutating func setListen(_ text: String) throws {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ConfigurationError("--listen \(text) must be HOST:PORT, e.g. 127.0.0.1:7433 (port 0 picks a free one)")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        self.host = host.isEmpty ? "127.0.0.1" : host
        self.port = port
    }
}

public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The source of "now", injected so tests drive time without sleeping.
public protocol DocketClock: Sendable {
    func now() -> Date
}

public struct SystemClock: DocketClock {
    public init() {}
    public func now() -> Date { Date() }
}
