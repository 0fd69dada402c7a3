/// The host and TCP port of a Docket admin server.
///
/// Parse one from the command line with ``init(_:)``:
///
/// | text | host | port |
/// | --- | --- | --- |
/// | `db1.example.com:7500` | `db1.example.com` | 7500 |
/// | `10.0.0.7` | `10.0.0.7` | 7433 (``defaultPort``) |
/// | `[::1]:7500` | `::1` | 7500 |
/// | `[::1]` or `::1` | `::1` | 7433 |
public struct ServerAddress: Sendable, Hashable, CustomStringConvertible {
    /// The port used when a text address does not name one.
    public static let defaultPort = 7433

    /// A host name or an IPv4/IPv6 address literal (IPv6 without brackets).
    public var host: String
    /// The TCP port.
    public var port: Int

    /// Creates an address from its parts, taken as given.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT`, `[IPV6]:PORT`, `HOST`, `[IPV6]` or a bare IPv6
    /// literal such as `::1`; a missing port is ``defaultPort``.
    ///
    /// Returns `nil` for an empty host, a port that is not a decimal number
    /// in `1...65535`, unbalanced brackets or any whitespace.
    public init?(_ text: String) {
        guard !text.isEmpty, !text.contains(where: \.isWhitespace) else { return nil }
        var host: Substring
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { return nil }
                portText = rest.dropFirst()
            }
        } else if let colon = text.firstIndex(of: ":") {
            if text[text.index(after: colon)...].contains(":") {
                host = text[...]  // a bare IPv6 literal: no port
            } else {
                host = text[..<colon]
                portText = text[text.index(after: colon)...]
            }
        } else {
            host = text[...]
        }
        guard !host.isEmpty, !host.contains("[") && !host.contains("]") else { return nil }
        var port = Self.defaultPort
        if let portText {
            guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy({ $0 >= "0" && $0 <= "9" }),
                let value = Int(portText), (1...65_535).contains(value)
            else { return nil }
            port = value
        }
        self.init(host: String(host), port: port)
    }

    /// `host:port`, with IPv6 hosts in brackets (`[::1]:7433`), so the text
    /// parses back to the same address.
    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Whether ``host`` is an IPv4 or IPv6 address literal rather than a name
    /// (TLS sends no SNI for address literals).
    var hostIsIPAddress: Bool {
        if host.contains(":") { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4
            && parts.allSatisfy { part in
                !part.isEmpty && part.count <= 3 && part.allSatisfy { $0 >= "0" && $0 <= "9" } && Int(part)! <= 255
            }
    }
}
