import DocketClient
import Foundation

/// The server, user, token and TLS settings a command connects with, resolved from the
/// command line, the environment, `docket login`'s configuration and — against a local
/// server — the admin token its data directory holds.
struct ConnectionSettings: Sendable {
    var address: ServerAddress
    var user: String
    var token: String
    var tls: ClientTLS?
    /// Where the token came from, for error messages: `--token`, `DOCKET_TOKEN`, a path.
    var tokenSource: String

    static let defaultServer = "127.0.0.1:7433"

    /// The address alone (for `docket login`, which asks for the rest).
    static func address(_ options: ConnectionOptions, environment: [String: String], config: UserConfig?) throws -> ServerAddress {
        let text = options.server ?? nonEmpty(environment["DOCKET_SERVER"]) ?? config?.server ?? defaultServer
        guard let address = ServerAddress(text) else {
            throw CLIFailure(.usage, "'\(text)' is not a server address", hint: "write HOST:PORT, e.g. --server 127.0.0.1:7433")
        }
        return address
    }

    static func resolve(_ options: ConnectionOptions,
                        environment: [String: String] = ProcessInfo.processInfo.environment,
                        config: UserConfig? = nil,
                        currentDirectory: String = FileManager.default.currentDirectoryPath) throws -> ConnectionSettings {
        let address = try address(options, environment: environment, config: config)
        let explicitServer = options.server ?? nonEmpty(environment["DOCKET_SERVER"])
        let explicitUser = options.user ?? nonEmpty(environment["DOCKET_USER"])
        var tokenSource = options.token != nil ? "--token" : "DOCKET_TOKEN"
        let explicitToken = options.token ?? nonEmpty(environment["DOCKET_TOKEN"])

        // The stored login counts for its own server and user only.
        var stored: UserConfig?
        if let config, config.token != nil {
            let sameServer = explicitServer == nil || config.server.flatMap(ServerAddress.init) == address
            let sameUser = explicitUser == nil || explicitUser == config.user
            if sameServer && sameUser { stored = config }
        }
        var user = explicitUser ?? stored?.user
        var token = explicitToken
        if token == nil, let stored, let storedToken = stored.token {
            token = storedToken
            tokenSource = "the login in \(UserConfig.path(environment: environment))"
        }
        if token == nil, isLoopback(address.host), user == nil || user == "admin",
           let found = localAdminToken(options, environment: environment, currentDirectory: currentDirectory) {
            user = "admin"
            token = found.token
            tokenSource = found.path
        }
        guard let token else {
            let who = user.map { "user \($0)" } ?? "a user"
            throw CLIFailure(.denied, "no token for \(who) at \(address)",
                             hint: "run `docket login`, or pass --user and --token (or set DOCKET_USER and DOCKET_TOKEN)")
        }
        guard let user else {
            throw CLIFailure(.usage, "a token needs a user", hint: "pass --user or set DOCKET_USER")
        }
        let caFile = options.cacert ?? nonEmpty(environment["DOCKET_CACERT"]) ?? stored?.cacert
        let wantsTLS = options.tls || caFile != nil || ["1", "true", "yes"].contains(environment["DOCKET_TLS"]?.lowercased() ?? "")
            || stored?.tls == true
        return ConnectionSettings(address: address, user: user, token: token,
                                  tls: wantsTLS ? ClientTLS(caFile: caFile) : nil, tokenSource: tokenSource)
    }

    /// `admin.token` in `--data-dir`, `DOCKET_DATA_DIR`, or `.docket` in the current
    /// directory or one of its parents.
    static func localAdminToken(_ options: ConnectionOptions, environment: [String: String], currentDirectory: String) -> (path: String, token: String)? {
        var candidates: [String] = []
        if let dir = options.dataDirectory ?? nonEmpty(environment["DOCKET_DATA_DIR"]) {
            candidates.append(dir.hasPrefix("/") ? dir : "\(currentDirectory)/\(dir)")
        } else {
            var url = URL(fileURLWithPath: currentDirectory)
            while true {
                candidates.append(url.appendingPathComponent(".docket").path)
                let parent = url.deletingLastPathComponent()
                if parent.path == url.path { break }
                url = parent
            }
        }
        for dir in candidates {
            let path = "\(dir)/admin.token"
            if let text = try? String(contentsOfFile: path, encoding: .utf8) {
                let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
                if !token.isEmpty { return (path, token) }
            }
        }
        return nil
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    static func nonEmpty(_ s: String?) -> String? {
        guard let s, !s.isEmpty else { return nil }
        return s
    }
}
