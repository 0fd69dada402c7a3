import ArgumentParser
import DocketClient
import DocketWire
import Foundation

/// An authenticated RESP3 connection for one command.
struct Session: Sendable {
    let client: DocketClient
    let settings: ConnectionSettings

    var user: String { settings.user }

    @discardableResult
    func call(_ args: String...) async throws -> RESPValue {
        try await client.call(args)
    }

    @discardableResult
    func call(_ args: [String]) async throws -> RESPValue {
        try await client.call(args)
    }

    /// Sends the commands pipelined, in writes of at most `batch` commands (each write's
    /// replies must come within the client's timeout); throws the first error reply.
    @discardableResult
    func all(_ commands: [[String]], batch: Int = 16) async throws -> [RESPValue] {
        var replies: [RESPValue] = []
        for start in stride(from: 0, to: commands.count, by: batch) {
            replies += try await client.pipeline(Array(commands[start..<min(start + batch, commands.count)]))
        }
        for reply in replies {
            if case .error(let line) = reply { throw ServerError(line: line) }
        }
        return replies
    }

    /// The authenticated user: `user, name, member, roles`.
    func whoami() async throws -> RESPValue {
        try await call("WHOAMI")
    }
}

extension ConnectionOptions {
    /// Connects, authenticates with `HELLO 3 AUTH`, runs `body` and closes. Any failure is
    /// printed as one line on stderr and becomes the matching exit code; `hints` replace the
    /// general hint for a server error class (`"DENIED": "run docket why PP-3 submit"`).
    func withSession<T: Sendable>(hints: [String: String] = [:], settings resolved: ConnectionSettings? = nil,
                                  _ body: (Session) async throws -> T) async throws -> T {
        var address: ServerAddress?
        var tls = false
        do {
            let settings = try resolved ?? ConnectionSettings.resolve(self, config: try UserConfig.load())
            address = settings.address
            tls = settings.tls != nil
            let client = try await DocketClient.connect(to: settings.address, tls: settings.tls)
            do {
                do {
                    try await client.hello(3, user: settings.user, token: settings.token)
                } catch let error as ServerError where error.code == "WRONGPASS" {
                    throw CLIFailure(.denied, "WRONGPASS the server refused user \(settings.user) with the token from \(settings.tokenSource)",
                                     hint: settings.tokenSource.hasSuffix("admin.token")
                                        ? "that token belongs to another server: pass --data-dir of the server you run, or --user and --token"
                                        : "check --user and --token, or run `docket login` again")
                }
                let result = try await body(Session(client: client, settings: settings))
                await client.close()
                return result
            } catch {
                await client.close()
                throw error
            }
        } catch {
            throw Self.exit(for: error, address: address, tls: tls, hints: hints)
        }
    }

    /// The exit for an error: reports it and returns the `ExitCode` to throw.
    static func exit(for error: any Error, address: ServerAddress?, tls: Bool, hints: [String: String]) -> any Error {
        switch error {
        case let failure as CLIFailure:
            return failure.report()
        case let server as ServerError:
            return CLIFailure(server, hints: hints).report()
        case let client as ClientError:
            return CLIFailure(client, address: address ?? ServerAddress(host: "127.0.0.1", port: ServerAddress.defaultPort), tls: tls).report()
        case is ExitCode, is ValidationError, is CleanExit:
            return error
        default:
            return CLIFailure(.failure, String(describing: error)).report()
        }
    }
}

/// Runs `body`, reporting a `CLIFailure` it throws (for commands that do not connect).
func reporting<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch {
        throw ConnectionOptions.exit(for: error, address: nil, tls: false, hints: [:])
    }
}
