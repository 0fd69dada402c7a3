import DocketClient
import DocketTestSupport
import DocketWire
import Foundation
import Testing

@Suite("A slow watcher", .timeLimit(.minutes(10)))
struct SlowWatcherTests {
    @Test("a watcher that stops reading is cut off at the output-buffer limit; others are unaffected")
    func cutOff() async throws {
        try await TestServer.with(configure: { $0.watcherOutputLimit = 64 * 1024 }) { server in
            let id: String = try await server.withClient { admin in
                try await admin.call("WORKFLOW.LOAD", timedYAML)
                return try await admin.call("ITEM.CREATE", "timed", "Busy item")["id"]?.stringValue ?? ""
            }
            let marker = NSTemporaryDirectory() + "docket-slow-\(UUID().uuidString)"
            let script = """
                import socket, sys, time, os
                s = socket.create_connection(("127.0.0.1", \(server.port)))
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                s.sendall(b"AUTH admin \(server.adminToken)\\r\\nHELLO 3\\r\\nWATCH ITEM \(id)\\r\\n")
                print("watching", flush=True)
                deadline = time.time() + 120
                while not os.path.exists(sys.argv[1]) and time.time() < deadline:
                    time.sleep(0.05)
                s.settimeout(10)
                total, eof = 0, False
                try:
                    while True:
                        chunk = s.recv(65536)
                        if not chunk:
                            eof = True
                            break
                        total += len(chunk)
                except Exception as e:
                    print("error", e)
                print("bytes", total, "eof", eof)
                """
            let path = marker + ".py"
            try script.write(toFile: path, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: path); try? FileManager.default.removeItem(atPath: marker) }
            async let watcher = CLI.run("/usr/bin/env", ["python3", path, marker])
            // Wait until the watch is registered, then produce far more than the limit.
            try await server.withClient { c in
                for _ in 0..<200 {
                    if (try await c.call("INFO", "clients").stringValue ?? "").contains("watchers:1") { break }
                    try await Task.sleep(for: .milliseconds(50))
                }
                let note = String(repeating: "Sustainable procurement across the section. ", count: 1500)   // ~66 KB
                for _ in 0..<120 { try await c.call("ITEM.COMMENT", id, note) }
                var info = ""
                for _ in 0..<200 {
                    info = try await c.call("INFO", "clients").stringValue ?? ""
                    if info.contains("watchers:0") { break }
                    try await Task.sleep(for: .milliseconds(50))
                }
                #expect(info.contains("watchers:0"), "the slow watcher was disconnected: \(info)")
                #expect(try await c.call("PING").stringValue == "PONG")
            }
            _ = FileManager.default.createFile(atPath: marker, contents: Data())
            let result = try await watcher
            let words = result.stdout.split(whereSeparator: \.isWhitespace)
            #expect(words.contains("eof") && words.last == "True", "\(result.stdout)\(result.stderr)")
            let received = words.firstIndex(of: "bytes").flatMap { Int(words[$0 + 1]) } ?? -1
            #expect(received < 120 * 66_000, "it did not receive everything: \(received) bytes")
        }
    }
}
