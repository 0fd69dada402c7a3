import DocketTestSupport
import Foundation
import Testing

@Suite("docket workflow")
struct WorkflowCommandTests {
    let root = TestDatabase.packageRoot.path

    @Test("check passes on the shipped definitions")
    func shippedAreClean() async throws {
        let r = try await CLI.docket(["workflow", "check"], in: root)
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        for name in ["policy-paper", "thematic-project", "membership-application"] {
            #expect(r.stdout.contains("Workflows/\(name).yaml: ok"))
        }
    }

    func write(_ yaml: String) throws -> String {
        let path = NSTemporaryDirectory() + "docket-check-\(UUID().uuidString).yaml"
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("check fails with line and column on an unreachable state and on a dead end")
    func brokenDefinitions() async throws {
        let unreachable = try write("""
            workflow: broken
            prefix: BR
            initial: open
            states:
              open:
                due: 1d
                on:
                  close: { to: closed, by: [secretariat] }
              forgotten:
                due: 1d
                on:
                  close: { to: closed, by: [secretariat] }
              closed: { final: true }
            """)
        let deadEnd = try write("""
            workflow: stuck
            prefix: ST
            initial: open
            states:
              open:
                due: 1d
                on:
                  park: { to: parked, by: [secretariat] }
                  close: { to: closed, by: [secretariat] }
              parked:
                due: 1d
                on:
                  poke: { to: parked, by: [secretariat] }
              closed: { final: true }
            """)
        defer { try? FileManager.default.removeItem(atPath: unreachable); try? FileManager.default.removeItem(atPath: deadEnd) }
        let r = try await CLI.docket(["workflow", "check", unreachable, deadEnd])
        #expect(r.status == 1)
        #expect(r.stdout.contains("\(unreachable):9:3: error: state \"forgotten\" is unreachable from the initial state \"open\""), "\(r.stdout)")
        #expect(r.stdout.contains("\(deadEnd):10:3: error: state \"parked\" is a dead end: no final state can be reached from it"), "\(r.stdout)")
        #expect(r.stdout.contains("2 errors, 0 warnings in 2 files"))
    }

    @Test("check reports YAML syntax errors with their position")
    func yamlError() async throws {
        let path = try write("workflow: x\nstates:\n  a: [unclosed\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try await CLI.docket(["workflow", "check", path])
        #expect(r.status == 1)
        #expect(r.stdout.contains("\(path):"), "\(r.stdout)")
        #expect(r.stdout.contains("error: YAML:"))
    }

    @Test("graph prints dot and mermaid")
    func graph() async throws {
        let dot = try await CLI.docket(["workflow", "graph", "policy-paper"], in: root)
        #expect(dot.status == 0)
        #expect(dot.stdout.hasPrefix("digraph \"policy-paper\""))
        let mermaid = try await CLI.docket(["workflow", "graph", "thematic-project", "--format", "mermaid"], in: root)
        #expect(mermaid.stdout.contains("active --> reporting: report by chair|author"))
        let missing = try await CLI.docket(["workflow", "graph", "no-such-workflow"], in: root)
        #expect(missing.status == 66)
        #expect(missing.stderr.hasPrefix("docket: no workflow named no-such-workflow"))
    }

    @Test("without PostgreSQL installed, one line says how to install it")
    func missingPostgres() async throws {
        let empty = NSTemporaryDirectory() + "docket-nopg-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: empty) }
        let r = try await CLI.docket(["migrate", "--data-dir", empty + "/data"], environment: ["DOCKET_PG_BINDIR": empty, "DOCKET_DATABASE_URL": ""])
        #expect(r.status == 69)
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(r.stderr)")
        #expect(r.stderr.contains("apt-get install postgresql"))
    }
}
