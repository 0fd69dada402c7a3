/// A failure of the connection itself rather than an error reply (those are
/// ``ServerError``s).
public enum ClientError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The TCP connection or the TLS handshake to the address failed; the
    /// string says why (refused, timed out, certificate not trusted...).
    case connectionFailed(ServerAddress, String)
    /// The connection was closed (by either side, or after a timeout or
    /// protocol error) before the reply arrived.
    case connectionClosed
    /// The server sent bytes that are not valid RESP; the connection is closed.
    case protocolError(String)
    /// No reply arrived within the client's timeout; the connection is closed,
    /// since a late reply would be taken for the next command's.
    case timeout

    /// A one-line explanation for people.
    public var description: String {
        switch self {
        case .connectionFailed(let address, let reason): return "could not connect to \(address): \(reason)"
        case .connectionClosed: return "connection closed"
        case .protocolError(let message): return "protocol error: \(message)"
        case .timeout: return "timed out waiting for the server's reply"
        }
    }
}
