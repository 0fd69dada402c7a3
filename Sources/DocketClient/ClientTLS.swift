/// TLS settings for ``DocketClient/connect(to:tls:timeout:eventLoopGroup:)``.
///
/// ```swift
/// let tls = ClientTLS(caFile: "/etc/docket/ca.pem")
/// let client = try await DocketClient.connect(to: address, tls: tls)
/// ```
public struct ClientTLS: Sendable {
    /// A PEM file with the certificates to trust (one or more); `nil` trusts
    /// the system's root certificates.
    public var caFile: String?
    /// The name sent as SNI and checked against the server's certificate;
    /// `nil` uses the address' host when it is a name (an address literal
    /// sends no SNI and is checked as an IP address).
    public var serverName: String?
    /// Whether to verify the server's certificate chain and name. Turn off
    /// only for testing: the connection is then open to interception.
    public var verify: Bool

    /// Creates TLS settings; by default the system roots are trusted and the
    /// certificate is fully verified.
    public init(caFile: String? = nil, serverName: String? = nil, verify: Bool = true) {
        self.caFile = caFile
        self.serverName = serverName
        self.verify = verify
    }
}
