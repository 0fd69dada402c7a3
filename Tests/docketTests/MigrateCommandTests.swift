import DocketTestSupport
import Foundation
import Testing

@Suite("docket migrate")
struct MigrateCommandTests {
    @Test("two migrate processes at once: each migration applied once, then up to date")
    func concurrentProcesses() async throws {
        try await TestDatabase.withDatabase(migrate: false) { url in
            let env = ["DOCKET_DATABASE_URL": url.connectionString]
            async let a = CLI.docket(["migrate"], environment: env)
            async let b = CLI.docket(["migrate"], environment: env)
            let (ra, rb) = try await (a, b)
            #expect(ra.status == 0 && rb.status == 0, "\(ra.stderr)\(rb.stderr)")
            let outputs = [ra.stdout, rb.stdout]
            #expect(outputs.filter { $0.hasPrefix("applied 0001, 0002") }.count == 1, "\(outputs)")
            #expect(outputs.filter { $0.hasPrefix("the database is up to date") }.count == 1, "\(outputs)")
            let again = try await CLI.docket(["migrate"], environment: env)
            #expect(again.stdout == "the database is up to date\n")
        }
    }

    @Test("an unreachable database: migrate and serve each say so in one line and exit 69, without hanging")
    func unreachableDatabase() async throws {
        let env = ["DOCKET_DATABASE_URL": "postgres://docket@127.0.0.1:1/docket", "DOCKET_DB_TIMEOUT": "1"]
        let migrate = try await CLI.docket(["migrate"], environment: env)
        #expect(migrate.status == 69, "\(migrate.stderr)")
        #expect(migrate.stderr.hasPrefix("docket: the database is unavailable"), "\(migrate.stderr)")
        #expect(migrate.stderr.split(separator: "\n").count == 1)
        let serve = try await CLI.docket(["serve", "--listen", "127.0.0.1:0", "--log-level", "error"], environment: env)
        #expect(serve.status == 69, "\(serve.stderr)")
        #expect(serve.stderr.hasSuffix("(is PostgreSQL running? check --database-url)\n"), "\(serve.stderr)")
        #expect(!serve.stdout.contains("listening on"))
    }
}
