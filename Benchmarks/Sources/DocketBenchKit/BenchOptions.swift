import ArgumentParser
import Foundation

/// The load tool's scenarios.
public enum Scenario: String, CaseIterable, Sendable, ExpressibleByArgument, Codable {
    /// ITEM.FIRE on random items of the population (a cycle of two transitions, see `FireCycle`).
    case fire
    /// ITEM.GET on random items.
    case get
    /// A day of the association: reads, transitions, votes, revisions, endorsements (see `MixedPlan`).
    case mixed
    /// PING: the protocol layer alone.
    case ping
}

/// Where the server is and who to be.
public struct ConnectionOptions: ParsableArguments, Sendable {
    @Option(help: "Server host.")
    public var host = "127.0.0.1"

    @Option(help: "Server port.")
    public var port = 7433

    @Option(help: ArgumentHelp("User to authenticate as (default: the population's bench user, or admin).", valueName: "handle"))
    public var user: String?

    @Option(help: ArgumentHelp("Token for --user.", valueName: "token"))
    public var token: String?

    @Option(name: .customLong("token-file"), help: ArgumentHelp("File holding the token (default .docket/admin.token).", valueName: "file"))
    public var tokenFile: String?

    @Option(help: ArgumentHelp("Population file written by `docket-bench populate`.", valueName: "file"))
    public var state = ".build/docket-bench.json"

    public init() {}

    /// The explicit credentials, if any: `--token`, or `--token-file`.
    public func explicitToken() throws -> String? {
        if let token { return token }
        if let tokenFile { return try Self.readToken(tokenFile) }
        return nil
    }

    /// The admin credentials: `--user`/`--token`/`--token-file`, else `admin` with `.docket/admin.token`.
    public func adminCredentials() throws -> Credentials {
        if let token = try explicitToken() { return Credentials(user: user ?? "admin", token: token) }
        return Credentials(user: user ?? "admin", token: try Self.readToken(".docket/admin.token"))
    }

    static func readToken(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("cannot read the token file \(path)")
        }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// A user and token.
public struct Credentials: Codable, Sendable, Hashable {
    public var user: String
    public var token: String

    public init(user: String, token: String) {
        self.user = user
        self.token = token
    }
}

/// How hard and how long to push.
public struct LoadOptions: ParsableArguments, Sendable {
    @Option(name: [.customShort("c"), .long], help: "Concurrent connections.")
    public var clients = 4

    @Option(name: [.customShort("d"), .long], help: ArgumentHelp("Seconds measured.", valueName: "seconds"))
    public var duration: Double = 10

    @Option(help: ArgumentHelp("Seconds run before measuring (not recorded).", valueName: "seconds"))
    public var warmup: Double = 2

    @Option(help: ArgumentHelp("Use only the first N items of the population (0: all).", valueName: "n"))
    public var items = 0

    @Option(name: [.customShort("P"), .long], help: "Commands in flight per connection (pipelining depth).")
    public var pipeline = 1

    @Flag(help: "Print the report as JSON.")
    public var json = false

    @Option(help: ArgumentHelp("Sample VmRSS of this process (the server) during the run.", valueName: "pid"))
    public var pid: Int32?

    @Option(help: ArgumentHelp("Random seed (0: from the clock).", valueName: "n"))
    public var seed: UInt64 = 0

    public init() {}

    public mutating func validate() throws {
        guard clients >= 1 else { throw ValidationError("--clients must be at least 1") }
        guard clients <= 20_000 else { throw ValidationError("--clients must be at most 20000") }
        guard duration > 0 else { throw ValidationError("--duration must be positive") }
        guard warmup >= 0 else { throw ValidationError("--warmup cannot be negative") }
        guard items >= 0 else { throw ValidationError("--items cannot be negative") }
        guard (1...1024).contains(pipeline) else { throw ValidationError("--pipeline must be between 1 and 1024") }
    }
}
