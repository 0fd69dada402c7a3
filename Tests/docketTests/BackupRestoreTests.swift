import DocketClient
import DocketStore
import DocketTestSupport
import DocketWire
import Foundation
import Logging
import PostgresNIO
import Testing

/// `docket backup` then `docket restore` into a fresh database gives the same items, the same
/// users and tokens, and a chain that verifies; restore refuses a database that is not empty
/// unless --clean, refuses a file that is not a Docket dump, and says so when a restored chain
/// does not verify.
@Suite("docket backup and restore", .serialized, .timeLimit(.minutes(10)))
struct BackupRestoreTests {
    static let environment = ["DOCKET_DATABASE_URL": "", "DOCKET_DATA_DIR": "", "DOCKET_LOG_LEVEL": "warning"]

    /// What the items look like through the admin protocol: id, title, state, version.
    static func items(_ client: DocketClient) async throws -> [String] {
        var out: [String] = []
        var after: String?
        while true {
            var args = ["ITEM.LIST", "LIMIT", "200"]
            if let after { args += ["AFTER", after] }
            let page = try await client.call(args).arrayValue ?? []
            out += page.map { "\($0["id"]?.stringValue ?? "?") \($0["state"]?.stringValue ?? "?") v\($0["version"]?.intValue ?? -1) \($0["title"]?.stringValue ?? "?")" }
            guard page.count == 200 else { return out }
            after = page.last?["id"]?.stringValue
        }
    }

    /// Every item's last hash, straight from the table.
    static func heads(_ url: DatabaseURL) async throws -> [String] {
        do { return try await headsNow(url) } catch { throw ProcessServer.Failure(description: "reading items of \(url): \(String(reflecting: error))") }
    }

    static func headsNow(_ url: DatabaseURL) async throws -> [String] {
        try await DatabaseLocation.withClient(url: url, maximumConnections: 1, logger: TestDatabase.logger) { client in
            let rows = try await client.query("SELECT id, version, encode(last_hash, 'hex') FROM items ORDER BY id", logger: TestDatabase.logger)
            var out: [String] = []
            for try await (id, version, hash) in rows.decode((String, Int, String).self) { out.append("\(id) v\(version) \(hash)") }
            return out
        }
    }

    @Test("backup, restore into a fresh database: same items and tokens, chain verifies; --clean; not a dump")
    func roundTrip() async throws {
        // PSQLError describes itself only when reflected.
        do { try await roundTripNow() } catch { throw ProcessServer.Failure(description: String(reflecting: error)) }
    }

    func roundTripNow() async throws {
        try await TestDatabase.withDatabase { source in
            try await withProcessScratch { scratch in
                // A database with the section, papers and a loop of transitions, served by docket serve.
                let server = try await ProcessServer.start(database: source, dataDirectory: scratch + "/data", scratch: scratch)
                defer { server.stop() }
                let admin = try await server.admin()
                try await EurasiaSection.setUp(admin)
                try await admin.call("WORKFLOW.LOAD", processLoopYAML)
                for i in 1...12 {
                    let id = try #require(try await admin.call("ITEM.CREATE", "crashloop", "Backed up item \(i) — «ünïcode»")["id"]?.stringValue)
                    for n in 0..<(i % 5) { try await admin.call("ITEM.FIRE", id, n % 2 == 0 ? "flip" : "touch", "COMMENT", "step \(n)") }
                    if i % 4 == 0 { try await admin.call("ITEM.COMMENT", id, "a note on \(id)") }
                }
                // A paper by the secretariat, with a field and a revision.
                let secToken = try #require(try await admin.call("TOKEN.CREATE", "sec").stringValue)
                let sec = try await DocketClient.connect(to: server.address)
                try await sec.auth(user: "sec", token: secToken)
                let paper = try #require(try await sec.call("ITEM.CREATE", "policy-paper", "Green procurement", "THEME", "sustainability", "GROUP", "sustainability-wg")["id"]?.stringValue)
                try await sec.call("ITEM.SET", paper, "summary", "Buying green")
                try await sec.call("ITEM.REVISE", paper, "# Green procurement\n\nCities buy green.\n")
                await sec.close()
                let before = try await Self.items(admin)
                let auditBefore = try await admin.call("AUDIT.VERIFY")
                let usersBefore = (try await admin.call("USER.LIST").arrayValue ?? []).compactMap { $0["user"]?.stringValue ?? $0["handle"]?.stringValue }
                #expect(usersBefore.count >= EurasiaSection.users.count)
                await admin.close()

                let file = scratch + "/docket.dump"
                let backup = try await CLI.docket(["backup", file, "--database-url", source.connectionString], in: scratch, environment: Self.environment)
                #expect(backup.status == 0, "\(backup.stderr)")
                #expect(backup.stdout.contains("\(before.count) items"), "\(backup.stdout)")
                var info = stat()
                try #require(stat(file, &info) == 0, "no \(file)")
                #expect(info.st_mode & 0o777 == 0o600, "mode \(String(info.st_mode & 0o777, radix: 8))")
                #expect(!FileManager.default.fileExists(atPath: file + ".partial"))
                let dumpSize = info.st_size
                server.signal(SIGTERM)
                _ = try await server.waitForExit(timeout: .seconds(30))

                try await TestDatabase.withDatabase(migrate: false) { fresh in
                    let restore = try await CLI.docket(["restore", file, "--database-url", fresh.connectionString], in: scratch, environment: Self.environment)
                    #expect(restore.status == 0, "\(restore.stdout)\(restore.stderr)")
                    #expect(restore.stdout.contains("\(before.count) items, \(auditBefore["events"]?.intValue ?? -1) events"), "\(restore.stdout)")
                    #expect(restore.stdout.contains("audit chain verifies"), "\(restore.stdout)")
                    #expect(try await Self.heads(fresh) == Self.heads(source))

                    // The restored database serves the same items, to the same admin token.
                    let restored = try await ProcessServer.start(database: fresh, dataDirectory: scratch + "/data", scratch: scratch)
                    defer { restored.stop() }
                    let again = try await restored.admin()
                    let after = try await Self.items(again)
                    #expect(after == before, "items differ after restore")
                    let auditAfter = try await again.call("AUDIT.VERIFY")
                    #expect(auditAfter["ok"]?.boolValue == true && auditAfter["events"]?.intValue == auditBefore["events"]?.intValue, "\(auditAfter)")
                    #expect(try await again.call("ITEM.TEXT", paper).stringValue == "# Green procurement\n\nCities buy green.\n")
                    let usersAfter = (try await again.call("USER.LIST").arrayValue ?? []).compactMap { $0["user"]?.stringValue ?? $0["handle"]?.stringValue }
                    #expect(usersAfter == usersBefore)
                    // sec's token, created before the backup, works on the restored database.
                    let secAgain = try await DocketClient.connect(to: restored.address)
                    try await secAgain.auth(user: "sec", token: secToken)
                    #expect(try await secAgain.call("ITEM.GET", paper)["fields"]?["summary"]?.stringValue == "Buying green")
                    await secAgain.close()
                    // New work goes on from where the backup ended.
                    let next = try await again.call("ITEM.CREATE", "crashloop", "After the restore")
                    #expect(next["id"]?.stringValue == "CL-13")
                    await again.close()
                    restored.signal(SIGTERM)
                    _ = try await restored.waitForExit(timeout: .seconds(30))

                    // Not empty any more: refused without --clean, and left as it was.
                    let refused = try await CLI.docket(["restore", file, "--database-url", fresh.connectionString], in: scratch, environment: Self.environment)
                    #expect(refused.status == 1 && refused.oneLineError && refused.stderr.contains("not empty") && refused.stderr.contains("--clean"), "\(refused.stderr)")
                    #expect(try await Self.heads(fresh).count == before.count + 1)
                    // --clean drops everything first: back to the backup's state.
                    let cleaned = try await CLI.docket(["restore", file, "--clean", "--database-url", fresh.connectionString], in: scratch, environment: Self.environment)
                    #expect(cleaned.status == 0, "\(cleaned.stderr)")
                    #expect(cleaned.stdout.contains("audit chain verifies"))
                    #expect(try await Self.heads(fresh) == Self.heads(source))

                    // A file that is not a dump.
                    let junk = scratch + "/junk.dump"
                    try "not a dump\n".write(toFile: junk, atomically: true, encoding: .utf8)
                    let bad = try await CLI.docket(["restore", junk, "--clean", "--database-url", fresh.connectionString], in: scratch, environment: Self.environment)
                    #expect(bad.status != 0 && bad.oneLineError, "\(bad.status) \(bad.stderr)")
                    #expect(try await Self.heads(fresh) == Self.heads(source), "a refused file changed the database")
                    let missing = try await CLI.docket(["restore", scratch + "/nothing.dump", "--database-url", fresh.connectionString], in: scratch, environment: Self.environment)
                    #expect(missing.status == 66 && missing.oneLineError, "\(missing.stderr)")
                    print("backup/restore: \(before.count) items, \(auditBefore["events"]?.intValue ?? -1) events; dump \(dumpSize) bytes; restored items equal, heads equal, chain verifies; non-empty refused, --clean restored, junk refused")
                }
            }
        }
    }

    @Test("an event altered behind Docket's back: the restore says the chain does not verify, exit 65")
    func alteredChain() async throws {
        try await TestDatabase.withDatabase { source in
            try await withProcessScratch { scratch in
                let server = try await ProcessServer.start(database: source, dataDirectory: scratch + "/data", scratch: scratch)
                defer { server.stop() }
                let admin = try await server.admin()
                try await admin.call("WORKFLOW.LOAD", processLoopYAML)
                for i in 1...3 {
                    let id = try #require(try await admin.call("ITEM.CREATE", "crashloop", "Item \(i)")["id"]?.stringValue)
                    try await admin.call("ITEM.FIRE", id, "flip", "COMMENT", "the original comment")
                }
                await admin.close()
                server.signal(SIGTERM)
                _ = try await server.waitForExit(timeout: .seconds(30))
                // Someone with the database's password rewrites history.
                try await DatabaseLocation.withClient(url: source, maximumConnections: 1, logger: TestDatabase.logger) { client in
                    try await client.withConnection { c in
                        try await c.query("ALTER TABLE events DISABLE TRIGGER USER", logger: TestDatabase.logger)
                        try await c.query("UPDATE events SET comment = 'a forged comment' WHERE item_id = 'CL-2' AND version = 2", logger: TestDatabase.logger)
                        try await c.query("ALTER TABLE events ENABLE TRIGGER USER", logger: TestDatabase.logger)
                    }
                }
                let file = scratch + "/altered.dump"
                let backup = try await CLI.docket(["backup", file, "--database-url", source.connectionString], in: scratch, environment: Self.environment)
                #expect(backup.status == 0, "\(backup.stderr)")
                try await TestDatabase.withDatabase(migrate: false) { fresh in
                    let restore = try await CLI.docket(["restore", file, "--database-url", fresh.connectionString], in: scratch, environment: Self.environment)
                    #expect(restore.status == 65, "\(restore.stdout)\(restore.stderr)")
                    #expect(restore.stdout.contains("DOES NOT verify") && restore.stdout.contains("CL-2 v2"), "\(restore.stdout)")
                    print("backup/restore: altered event reported: \(restore.stdout.split(separator: "\n").last ?? "")")
                }
            }
        }
    }

    @Test("the embedded cluster under --data-dir: restore creates it, backup reads it, both stop it again")
    func embeddedCluster() async throws {
        try await TestDatabase.withDatabase { source in
            try await withProcessScratch { scratch in
                let server = try await ProcessServer.start(database: source, dataDirectory: scratch + "/data", scratch: scratch)
                defer { server.stop() }
                let admin = try await server.admin()
                try await admin.call("WORKFLOW.LOAD", processLoopYAML)
                for i in 1...4 { try await admin.call("ITEM.CREATE", "crashloop", "Embedded \(i)") }
                await admin.close()
                server.signal(SIGTERM)
                _ = try await server.waitForExit(timeout: .seconds(30))
                let file = scratch + "/a.dump"
                #expect(try await CLI.docket(["backup", file, "--database-url", source.connectionString], in: scratch, environment: Self.environment).status == 0)

                let data = scratch + "/embedded"
                let settings = ["DOCKET_DATA_DIR": data, "DOCKET_DATABASE_URL": "", "DOCKET_LOG_LEVEL": "warning"]
                let restore = try await CLI.docket(["restore", file], in: scratch, environment: settings)
                #expect(restore.status == 0, "\(restore.stdout)\(restore.stderr)")
                #expect(restore.stdout.contains("4 items") && restore.stdout.contains("audit chain verifies"), "\(restore.stdout)")
                let second = scratch + "/b.dump"
                let backup = try await CLI.docket(["backup", second, "--data-dir", data], in: scratch, environment: settings)
                #expect(backup.status == 0, "\(backup.stderr)")
                #expect(backup.stdout.contains("4 items"), "\(backup.stdout)")
                // Both commands stopped the cluster they started.
                let pid = (try? String(contentsOfFile: data + "/postgres/data/postmaster.pid", encoding: .utf8)) ?? ""
                #expect(pid.isEmpty, "the embedded cluster is still running")
                print("backup/restore: embedded cluster \(restore.stdout.split(separator: "\n").first ?? "")")
            }
        }
    }
}
