import Foundation
import NIOSSL

/// A self-signed certificate for `CN=localhost`, made with `openssl` in a
/// fresh temporary directory.
struct TestCertificate {
    let directory: URL
    var certificatePath: String { directory.appendingPathComponent("c.pem").path }
    var keyPath: String { directory.appendingPathComponent("k.pem").path }

    struct OpenSSLFailed: Error, CustomStringConvertible {
        let status: Int32
        var description: String { "openssl exited with status \(status)" }
    }

    /// Runs `openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost ...`.
    static func make() throws -> TestCertificate {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("docket-client-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
            "-keyout", "k.pem", "-out", "c.pem", "-days", "1",
        ]
        process.currentDirectoryURL = directory
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw OpenSSLFailed(status: process.terminationStatus) }
        return TestCertificate(directory: directory)
    }

    /// A server-side TLS context using the certificate and key.
    func serverContext() throws -> NIOSSLContext {
        let chain = try NIOSSLCertificate.fromPEMFile(certificatePath).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        return try NIOSSLContext(
            configuration: .makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        )
    }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
    }
}
