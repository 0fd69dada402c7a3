import ArgumentParser
import DocketClient
import DocketWire
import Foundation

struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Check a server, user and token, and store them for the next commands.",
        discussion: """
            Stores them in $XDG_CONFIG_HOME/docket/config.json (or ~/.config/docket/config.json),
            readable by you only (mode 0600). Without --token the token is read from standard
            input (typed without echo on a terminal). Against a local server started with
            defaults, `docket login` alone stores the admin token from .docket/admin.token.

            Example: docket login --server docket.uclg-eurasia.org:7433 --tls --user aigul
            Example: echo "$TOKEN" | docket login --user ana
            """
    )

    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        var options = connection
        let environment = ProcessInfo.processInfo.environment
        let config = try await reporting { try UserConfig.load() }
        let hasToken = options.token != nil || ConnectionSettings.nonEmpty(environment["DOCKET_TOKEN"]) != nil
        if !hasToken, let user = options.user ?? ConnectionSettings.nonEmpty(environment["DOCKET_USER"]), user != "admin" || !hasLocalToken(options, environment) {
            let address = try await reporting { try ConnectionSettings.address(options, environment: environment, config: config) }
            options.token = try await reporting { try Self.readToken(prompt: "token for \(user) at \(address): ") }
        }
        let chosen = options
        // Resolve as any command would, but never from the stored login being replaced.
        let settings = try await reporting { try ConnectionSettings.resolve(chosen, config: nil) }
        try await chosen.withSession(settings: settings) { s in
            let me = try await s.whoami()
            var stored = UserConfig(server: settings.address.description, user: settings.user, token: settings.token)
            if let tls = settings.tls {
                stored.tls = true
                stored.cacert = tls.caFile.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
            }
            let path = UserConfig.path()
            try stored.save(to: path)
            Terminal.write("logged in to \(settings.address) as \(WhoamiCommand.describe(me)); saved in \(path)\n")
        }
    }

    func hasLocalToken(_ options: ConnectionOptions, _ environment: [String: String]) -> Bool {
        ConnectionSettings.localAdminToken(options, environment: environment, currentDirectory: FileManager.default.currentDirectoryPath) != nil
    }

    /// A token from standard input; on a terminal, prompted for and typed without echo.
    static func readToken(prompt: String) throws -> String {
        var line: String?
        if Terminal.stdinIsTTY {
            Terminal.writeError(prompt)
            var saved = termios()
            tcgetattr(STDIN_FILENO, &saved)
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(STDIN_FILENO, TCSANOW, &quiet)
            line = readLine()
            tcsetattr(STDIN_FILENO, TCSANOW, &saved)
            Terminal.writeError("\n")
        } else {
            line = readLine()
        }
        guard let token = line?.trimmingCharacters(in: .whitespacesAndNewlines), !token.isEmpty else {
            throw CLIFailure(.usage, "no token given", hint: "pass --token, set DOCKET_TOKEN, or type it when asked (an admin creates one with `docket token create`)")
        }
        return token
    }
}

struct LogoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logout",
        abstract: "Forget the stored server, user and token.",
        discussion: """
            Example: docket logout
            """
    )

    func run() async throws {
        let path = UserConfig.path()
        guard FileManager.default.fileExists(atPath: path) else {
            Terminal.write("not logged in\n")
            return
        }
        try await reporting {
            do { try FileManager.default.removeItem(atPath: path) } catch {
                throw CLIFailure(.failure, "cannot remove \(path): \(error.localizedDescription)")
            }
        }
        Terminal.write("removed \(path)\n")
    }
}

struct WhoamiCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "whoami",
        abstract: "Who the server takes you for: user, name, member represented, roles.",
        discussion: """
            Example: docket whoami
            Example: docket whoami --server 10.0.0.7:7433 --user ana
            """
    )

    @OptionGroup var output: OutputOptions
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        try await connection.withSession { s in
            let me = try await s.whoami()
            if output.printJSON(JSONValue(me)) { return }
            Terminal.write("\(Self.describe(me)) at \(s.settings.address)\n")
        }
    }

    /// `ana (Ana Petrova), representing almaty; roles: sustainability-wg:drafter`
    static func describe(_ me: RESPValue) -> String {
        var out = me.text("user")
        if let name = me.optionalText("name") { out += " (\(name))" }
        if let member = me.optionalText("member") { out += ", representing \(member)" }
        let roles = me.list("roles").map(\.displayText)
        out += roles.isEmpty ? "; no roles" : "; roles: " + roles.joined(separator: ", ")
        return out
    }
}
