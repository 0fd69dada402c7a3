import NIOCore

/// Recognises HTTP requests sent to the RESP port (browsers, health checks,
/// cross-protocol attacks), so the server can close without answering.
enum HTTPRequestDetector {
    static let methods: Set<String> = ["GET", "POST", "PUT", "HEAD", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE"]

    /// `true` for an HTTP request line (`METHOD <path> HTTP/x`, method matched
    /// case-insensitively) or a `Host:` header line.
    static func looksLikeHTTP(_ line: some Collection<UInt8>) -> Bool {
        let words = line.split(separator: UInt8(ascii: " "), maxSplits: 3, omittingEmptySubsequences: true)
        guard let first = words.first else { return false }
        let host = "host:".utf8
        if first.count >= host.count,
            zip(first, host).allSatisfy({ a, b in b == UInt8(ascii: ":") ? a == b : (a | 0x20) == b })
        {
            return true
        }
        guard first.count <= 7, words.count >= 3 else { return false }
        let method = String(decoding: first, as: UTF8.self).uppercased()
        guard methods.contains(method) else { return false }
        return words[2].starts(with: "HTTP/".utf8)
    }
}
