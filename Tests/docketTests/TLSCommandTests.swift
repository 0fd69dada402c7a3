import DocketTestSupport
import Foundation
import Testing

@Suite("docket: connecting with TLS", .timeLimit(.minutes(10)))
struct TLSCommandTests {
    @Test("--cacert trusts the server's certificate; plain TCP or an untrusted certificate is exit 69 with a hint")
    func tls() async throws {
        let directory = NSTemporaryDirectory() + "docket-cli-tls-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let openssl = try await CLI.run("/usr/bin/env", [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", "k.pem", "-out", "c.pem", "-days", "1",
        ], in: directory)
        try #require(openssl.status == 0, "\(openssl.stderr)")
        let (cert, key) = (directory + "/c.pem", directory + "/k.pem")
        try await Desk.with(section: false, configure: { $0.tlsCertificate = cert; $0.tlsKey = key }) { desk in
            let trusted = try await desk.run("admin", ["whoami", "--cacert", cert])
            #expect(trusted.status == 0 && trusted.stdout.hasPrefix("admin"), "\(trusted.stderr)")
            let viaEnv = try await desk.run("admin", ["whoami"], extra: ["DOCKET_CACERT": cert])
            #expect(viaEnv.status == 0, "\(viaEnv.stderr)")
            let plain = try await desk.run("admin", ["whoami"])
            #expect(plain.status == 69 && plain.oneLineError && plain.stderr.contains("answered in TLS") && plain.stderr.contains("--tls"), "\(plain.stderr)")
            let untrusted = try await desk.run("admin", ["whoami", "--tls"])
            #expect(untrusted.status == 69 && untrusted.oneLineError, "\(untrusted.stderr)")
            #expect(untrusted.stderr.contains("--cacert"))
        }
    }
}
