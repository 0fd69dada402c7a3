import DocketClient
import Testing

@Suite("ServerAddress parsing")
struct ServerAddressTests {
    @Test(
        "valid addresses",
        arguments: [
            ("localhost:7500", "localhost", 7500),
            ("localhost", "localhost", 7433),
            ("docket.example.com:1", "docket.example.com", 1),
            ("10.0.0.7", "10.0.0.7", 7433),
            ("10.0.0.7:65535", "10.0.0.7", 65535),
            ("[::1]:7500", "::1", 7500),
            ("[::1]", "::1", 7433),
            ("::1", "::1", 7433),
            ("[fe80::1%eth0]:80", "fe80::1%eth0", 80),
        ]
    )
    func valid(text: String, host: String, port: Int) throws {
        let address = try #require(ServerAddress(text))
        #expect(address.host == host)
        #expect(address.port == port)
        #expect(address == ServerAddress(host: host, port: port))
        // The description parses back to the same address.
        #expect(ServerAddress(address.description) == address)
    }

    @Test(
        "invalid addresses",
        arguments: [
            "", ":7433", "host:", "host:0", "host:65536", "host:99999999999999999999", "host:abc", "host:+1",
            "host:-1", "[::1", "[::1]x", "[::1]:", "[]:7433", "[]", "a b:1", " host", "host:1 ", "ho]st:1",
        ]
    )
    func invalid(text: String) {
        #expect(ServerAddress(text) == nil)
    }

    @Test("description brackets IPv6 hosts")
    func description() {
        #expect(ServerAddress(host: "localhost", port: 7433).description == "localhost:7433")
        #expect(ServerAddress(host: "::1", port: 9).description == "[::1]:9")
        #expect(ServerAddress.defaultPort == 7433)
    }
}
