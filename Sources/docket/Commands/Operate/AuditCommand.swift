import ArgumentParser
import DocketWire

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Check the audit chain: every item's SHA-256 chain of events.",
        subcommands: [Verify.self],
        defaultSubcommand: Verify.self
    )

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Recompute every item's audit chain (or one item's) and say whether it verifies.",
            discussion: """
                Sends AUDIT.VERIFY (secretariat or admin): the server recomputes each item's
                chain from its events, in order, and compares every hash with the one stored.
                Prints how many items and events were checked and, when a chain is broken, the
                first event that does not match. Exit 0 when every chain verifies, 65 when one
                does not (the same check `docket restore` runs after loading a backup), 66 for
                an unknown item, 69 when the server or its database cannot be reached.

                Example: docket audit verify
                Example: docket audit verify PP-4
                Example: docket audit verify --json
                """
        )

        @Argument(help: "Only this item's chain (all items when left out).")
        var id: String?

        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            var command = ["AUDIT.VERIFY"]
            if let id { command += ["ITEM", id] }
            let request = command
            let reply = try await connection.withSession { s in try await s.call(request) }
            let ok = reply.flag("ok")
            if !output.printJSON(JSONValue(reply)) {
                Terminal.write(Self.render(reply, item: id))
            }
            if !ok { throw ExitCode(Exit.invalid) }
        }

        static func render(_ reply: RESPValue, item: String?) -> String {
            let (items, events) = (reply.int("items"), reply.int("events"))
            let scope = "\(items) item\(items == 1 ? "" : "s"), \(events) event\(events == 1 ? "" : "s")"
            if reply.flag("ok") {
                let what = item.map { "\($0)'s SHA-256 chain recomputed" } ?? "every item's SHA-256 chain recomputed"
                return "audit chain verifies (\(scope)): \(what), none altered\n"
            }
            let first = reply["first_bad"]?.stringValue ?? "a chain is broken"
            return "audit chain DOES NOT verify (\(scope)): first bad event \(first)\n".styled(.red)
        }
    }
}
