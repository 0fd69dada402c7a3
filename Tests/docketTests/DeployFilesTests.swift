import DocketTestSupport
import Foundation
import Testing

@Suite("deploy/")
struct DeployFilesTests {
    let deploy = TestDatabase.packageRoot.appendingPathComponent("deploy").path

    @Test("compose and Kubernetes files parse as YAML with the expected objects")
    func yamlParses() async throws {
        let script = """
            import sys, yaml
            compose = yaml.safe_load(open(sys.argv[1]))
            assert set(compose["services"]) == {"postgres", "docket-a", "docket-b"}, compose["services"].keys()
            docs = [d for d in yaml.safe_load_all(open(sys.argv[2])) if d]
            kinds = sorted(d["kind"] for d in docs)
            assert kinds == ["ConfigMap", "Deployment", "Secret", "Service"], kinds
            dep = next(d for d in docs if d["kind"] == "Deployment")
            assert dep["spec"]["replicas"] >= 2
            c = dep["spec"]["template"]["spec"]["containers"][0]
            assert "readinessProbe" in c and "livenessProbe" in c
            assert c["env"][0]["valueFrom"]["secretKeyRef"]["name"] == "docket-database"
            cnpg = yaml.safe_load(open(sys.argv[3]))
            assert cnpg["kind"] == "Cluster" and cnpg["spec"]["instances"] == 3
            print("ok")
            """
        let path = NSTemporaryDirectory() + "docket-yaml-\(UUID().uuidString).py"
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try await CLI.run("/usr/bin/env", ["python3", path, deploy + "/compose.yaml", deploy + "/kubernetes/docket.yaml",
                                                   deploy + "/kubernetes/postgres-cloudnativepg.yaml"])
        #expect(r.status == 0 && r.stdout == "ok\n", "\(r.stdout)\(r.stderr)")
    }

    @Test("the systemd unit runs docket serve unprivileged and hardened")
    func systemdUnit() throws {
        let unit = try String(contentsOfFile: deploy + "/systemd/docket.service", encoding: .utf8)
        for line in ["User=docket", "ExecStart=/usr/bin/docket serve", "NoNewPrivileges=yes", "ProtectSystem=strict", "CapabilityBoundingSet=", "PrivateTmp=yes"] {
            #expect(unit.contains(line + (line.hasSuffix("=") ? "\n" : "")), "\(line)")
        }
    }

    @Test("systemd-analyze verify accepts the unit (ExecStart pointed at the built binary)")
    func systemdAnalyzeVerify() async throws {
        let analyze = try #require(["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].first { FileManager.default.isExecutableFile(atPath: $0) },
                                   "systemd-analyze not found: apt-get install systemd")
        let unit = try String(contentsOfFile: deploy + "/systemd/docket.service", encoding: .utf8)
        #expect(unit.contains("ExecReload=/bin/kill -HUP $MAINPID"))
        let directory = NSTemporaryDirectory() + "docket-unit-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/docket.service"
        try unit.replacingOccurrences(of: "/usr/bin/docket", with: CLI.docketPath).write(toFile: path, atomically: true, encoding: .utf8)
        let r = try await CLI.run(analyze, ["verify", path])
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        print("systemd-analyze verify: exit \(r.status)")
    }

    @Test("the Dockerfile builds in one stage and runs as a non-root user in another")
    func dockerfile() throws {
        let text = try String(contentsOfFile: deploy + "/Dockerfile", encoding: .utf8)
        #expect(text.components(separatedBy: "\nFROM ").count + (text.hasPrefix("FROM ") ? 1 : 0) >= 2)
        #expect(text.contains("FROM swift:") && text.contains("USER docket") && text.contains("swift build -c release"))
        // Every directory a target of the manifest lives in is copied into the build stage.
        let manifest = try String(contentsOfFile: TestDatabase.packageRoot.appendingPathComponent("Package.swift").path, encoding: .utf8)
        var directories = ["Sources", "Tests"]
        for line in manifest.split(separator: "\n") where line.contains("path: \"") {
            let path = line.split(separator: "\"")[1]
            directories.append(path.split(separator: "/").prefix(2).joined(separator: "/"))
        }
        for directory in Set(directories) {
            #expect(text.contains("COPY \(directory) ./\(directory)"), "the Dockerfile does not copy \(directory)")
        }
        #expect(text.contains("HEALTHCHECK") && text.contains("docket\", \"health"))
    }
}
