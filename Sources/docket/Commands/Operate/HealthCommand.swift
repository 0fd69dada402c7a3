import ArgumentParser
import DocketClient
import DocketWire
import Foundation

struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Ask a server whether it and its database are up (for probes and monitoring).",
        discussion: """
            Sends HEALTH, which needs no login (no user or token is sent), and prints the answer: status (ok or
            unavailable), the database (ok, or why not) with the round trip of `SELECT 1`,
            the server's version and uptime. Exit 0 when the status is ok; 69 when the database
            is unavailable or the server cannot be reached (or does not answer within --timeout).

            Example: docket health
            Example: docket health --server 10.0.0.7:7433 --json
            Example: docket health --timeout 2 || systemctl restart docket
            """
    )

    @OptionGroup var output: OutputOptions
    @OptionGroup var connection: ConnectionOptions

    @Option(help: ArgumentHelp("Seconds to wait for the connection and for the answer.", valueName: "seconds"))
    var timeout: Double = 5

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let config = try await reporting { try UserConfig.load() }
        let address = try await reporting { try ConnectionSettings.address(connection, environment: environment, config: config) }
        let tls = Self.tls(connection, environment: environment, config: config, address: address)
        guard timeout > 0 else { throw CLIFailure(.usage, "--timeout must be more than 0").report() }
        let limit = Duration.milliseconds(Int64(timeout * 1000))

        let reply: RESPValue
        do {
            let client = try await DocketClient.connect(to: address, tls: tls, timeout: limit)
            defer { Task { await client.close() } }
            // RESP2: HELLO would need a login, HEALTH does not. Its map comes as a flat array.
            reply = Self.asMap(try await client.call("HEALTH"))
        } catch let error as ServerError where error.code == "ERR" {
            throw CLIFailure(.failure, "\(address) does not answer HEALTH (\(error.line))",
                             hint: "the server is older than this docket; `docket whoami` checks the connection").report()
        } catch {
            if output.json {
                let message = Self.describe(error, address: address, tls: tls != nil)
                Terminal.write(JSONValue.object([("status", .string("unreachable")), ("server", .string(address.description)),
                                                 ("error", .string(message))]).render() + "\n")
            }
            throw ConnectionOptions.exit(for: error, address: address, tls: tls != nil, hints: [:])
        }

        let status = reply["status"]?.stringValue ?? "unknown"
        if !output.printJSON(JSONValue(reply)) {
            Terminal.write(Self.render(reply, address: address))
        }
        if status != "ok" { throw ExitCode(Exit.unavailable) }
    }

    /// A RESP2 flat array of pairs as a map, so `--json` prints an object.
    static func asMap(_ reply: RESPValue) -> RESPValue {
        guard case .array(let items) = reply, items.count % 2 == 0 else { return reply }
        return .map(stride(from: 0, to: items.count, by: 2).map { (items[$0], items[$0 + 1]) })
    }

    /// TLS as the other commands choose it: --tls, --cacert, DOCKET_TLS, DOCKET_CACERT, or the
    /// stored login's setting for its own server.
    static func tls(_ options: ConnectionOptions, environment: [String: String], config: UserConfig?, address: ServerAddress) -> ClientTLS? {
        let stored = config.flatMap { c in c.server.flatMap(ServerAddress.init) == address ? c : nil }
        let caFile = options.cacert ?? ConnectionSettings.nonEmpty(environment["DOCKET_CACERT"]) ?? stored?.cacert
        let wants = options.tls || caFile != nil || ["1", "true", "yes"].contains(environment["DOCKET_TLS"]?.lowercased() ?? "")
            || stored?.tls == true
        return wants ? ClientTLS(caFile: caFile) : nil
    }

    static func describe(_ error: any Error, address: ServerAddress, tls: Bool) -> String {
        switch error {
        case let client as ClientError: CLIFailure(client, address: address, tls: tls).message
        case let server as ServerError: server.line
        default: String(describing: error)
        }
    }

    /// `status  ok` lines, aligned.
    static func render(_ reply: RESPValue, address: ServerAddress) -> String {
        let status = reply["status"]?.stringValue ?? "unknown"
        let database = reply["database"]?.stringValue ?? "?"
        var databaseLine = database
        if let ms = reply["database_ms"]?.intValue { databaseLine += database == "ok" ? " (\(ms) ms)" : "" }
        var rows: [(String, String)] = [("server", address.description), ("status", status), ("database", databaseLine)]
        if let version = reply["version"]?.stringValue { rows.append(("version", version)) }
        if let uptime = reply["uptime_s"]?.intValue { rows.append(("uptime", uptimeText(uptime))) }
        let width = rows.map(\.0.count).max() ?? 0
        let painted = rows.map { name, value -> String in
            let shown = name == "status" ? value.styled(value == "ok" ? .green : .red) : value
            return name.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + shown
        }
        return painted.joined(separator: "\n") + "\n"
    }

    /// `3d 4h`, `2h 5m`, `4m 10s`, `12s`.
    static func uptimeText(_ seconds: Int) -> String {
        let (d, h, m, s) = (seconds / 86_400, seconds % 86_400 / 3600, seconds % 3600 / 60, seconds % 60)
        if d > 0 { return "\(d)d \(h)h" }
        if h > 0 { return "\(h)h \(m)m" }
        if m > 0 { return "\(m)m \(s)s" }
        return "\(s)s"
    }
}
