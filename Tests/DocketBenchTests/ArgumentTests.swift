import ArgumentParser
import Testing
@testable import DocketBenchKit

@Suite struct ArgumentTests {
    @Test func defaults() throws {
        let fire = try Fire.parse([])
        #expect(fire.connection.host == "127.0.0.1")
        #expect(fire.connection.port == 7433)
        #expect(fire.connection.state == ".build/docket-bench.json")
        #expect(fire.load.clients == 4)
        #expect(fire.load.duration == 10)
        #expect(fire.load.warmup == 2)
        #expect(fire.load.pipeline == 1)
        #expect(fire.load.items == 0)
        #expect(!fire.load.json)
        #expect(fire.load.pid == nil)
    }

    @Test func everyOption() throws {
        let get = try Get.parse([
            "--host", "10.0.0.2", "--port", "7500", "--user", "ops", "--token", "s3cret", "--state", "/tmp/p.json",
            "--clients", "16", "--duration", "30", "--warmup", "0", "--items", "5000", "--pipeline", "8", "--json",
            "--pid", "1234", "--seed", "7",
        ])
        #expect(get.connection.host == "10.0.0.2")
        #expect(get.connection.port == 7500)
        #expect(get.connection.user == "ops")
        #expect(try get.connection.explicitToken() == "s3cret")
        #expect(get.connection.state == "/tmp/p.json")
        #expect(get.load.clients == 16)
        #expect(get.load.duration == 30)
        #expect(get.load.warmup == 0)
        #expect(get.load.items == 5000)
        #expect(get.load.pipeline == 8)
        #expect(get.load.json)
        #expect(get.load.pid == 1234)
        #expect(get.load.seed == 7)
    }

    @Test func shortOptions() throws {
        let ping = try Ping.parse(["-c", "50", "-d", "5", "-P", "16"])
        #expect(ping.load.clients == 50)
        #expect(ping.load.duration == 5)
        #expect(ping.load.pipeline == 16)
    }

    @Test func theSubcommandsAreTheScenarios() throws {
        let names = DocketBench.configuration.subcommands.map { $0._commandName }
        for scenario in Scenario.allCases { #expect(names.contains(scenario.rawValue)) }
        #expect(names.contains("populate"))
        #expect(names.contains("idle"))
        let parsed = try DocketBench.parseAsRoot(["fire", "--clients", "16"])
        #expect((parsed as? Fire)?.load.clients == 16)
        #expect(try DocketBench.parseAsRoot(["mixed"]) is Mixed)
    }

    @Test func nonsenseIsRefused() {
        #expect(throws: (any Error).self) { try Fire.parse(["--clients", "0"]) }
        #expect(throws: (any Error).self) { try Fire.parse(["--duration", "0"]) }
        #expect(throws: (any Error).self) { try Fire.parse(["--pipeline", "0"]) }
        #expect(throws: (any Error).self) { try Fire.parse(["--warmup", "-1"]) }
        #expect(throws: (any Error).self) { try Fire.parse(["--clients", "many"]) }
        #expect(throws: (any Error).self) { try Fire.parse(["--bogus"]) }
        #expect(throws: (any Error).self) { try DocketBench.parseAsRoot(["nope"]) }
    }

    @Test func populateOptions() throws {
        let p = try Populate.parse(["--items", "1000000", "--papers", "10", "--connections", "4", "--batch", "100", "--fresh"])
        #expect(p.items == 1_000_000)
        #expect(p.papers == 10)
        #expect(p.connections == 4)
        #expect(p.batch == 100)
        #expect(p.fresh)
        #expect(throws: (any Error).self) { try Populate.parse(["--items", "-1"]) }
    }

    @Test func idleOptions() throws {
        let i = try Idle.parse(["--clients", "1000", "--hold", "5", "--pid", "99", "--json"])
        #expect(i.clients == 1000)
        #expect(i.hold == 5)
        #expect(i.pid == 99)
        #expect(i.json)
    }

    @Test func aTokenFileIsTrimmed() throws {
        let path = "/tmp/docket-bench-token-\(UInt64.random(in: 0...UInt64.max))"
        try "abc123\n".write(toFile: path, atomically: true, encoding: .utf8)
        let ping = try Ping.parse(["--token-file", path])
        #expect(try ping.connection.explicitToken() == "abc123")
        #expect(try ping.connection.adminCredentials() == Credentials(user: "admin", token: "abc123"))
        let missing = try Ping.parse(["--token-file", path + ".missing"])
        #expect(throws: (any Error).self) { try missing.connection.explicitToken() }
    }
}

@Suite struct RepeatArgumentTests {
    @Test func theCommandIsPassedThrough() throws {
        let r = try Repeat.parse(["--count", "20", "--", "ITEM.LIST", "STATE", "proposal", "LIMIT", "100"])
        #expect(r.count == 20)
        #expect(r.command == ["ITEM.LIST", "STATE", "proposal", "LIMIT", "100"])
        #expect(throws: (any Error).self) { try Repeat.parse(["--count", "20"]) }
        #expect(throws: (any Error).self) { try Repeat.parse(["--count", "0", "PING"]) }
    }
}
