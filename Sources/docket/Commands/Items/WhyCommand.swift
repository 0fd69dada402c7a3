import ArgumentParser
import DocketWire

struct WhyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "why",
        abstract: "Explain whether a transition is allowed: every check, passed or failed.",
        discussion: """
            Asks the engine the same question `docket do` would: ✓ for each check that holds, ✗
            for each that fails, with the reason in words. Exits 0 when the transition is
            allowed, 77 when it is not. --as USER (secretariat or admin) asks on another
            user's behalf.

            Example: docket why PP-4 submit
            Example: docket why PP-4 accept --as dilnoza
            """
    )

    @Argument(help: "Item id.")
    var id: String

    @Argument(help: "Transition name.")
    var transition: String

    @Option(name: .customLong("as"), help: ArgumentHelp("Explain for this user instead of you.", valueName: "user"))
    var asUser: String?

    @OptionGroup var output: OutputOptions
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        var args = ["ITEM.EXPLAIN", id, transition]
        if let asUser { args += ["AS", asUser] }
        let command = args
        let allowed = try await connection.withSession { s in
            let reply = try await s.call(command)
            let allowed = reply.flag("allowed")
            if output.printJSON(JSONValue(reply)) { return allowed }
            let who = asUser ?? s.user
            let verdict = allowed ? "allowed".styled(.green) : "not allowed".styled(.red)
            var out = "\(id) \(transition): \(verdict) for \(who)\n"
            out += Self.render(reply.list("checks"))
            Terminal.write(out)
            return allowed
        }
        if !allowed { throw ExitCode(Exit.denied) }
    }

    static func render(_ checks: [RESPValue]) -> String {
        var out = ""
        for check in checks {
            let ok = check.flag("ok")
            let mark = ok ? "✓".styled(.green) : "✗".styled(.red)
            out += "  \(mark) \(check.text("detail"))  " + "[\(check.text("check"))]".styled(.dim) + "\n"
        }
        return out
    }
}
