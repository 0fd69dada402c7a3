import ArgumentParser
import Foundation

extension WorkflowCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the workflows the server has loaded, with their items.",
            discussion: """
                Example: docket workflow list
                """
        )

        @OptionGroup var output: ReportOutputOptions
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            try await connection.withSession { s in
                DirectoryListing.print(try await s.call("WORKFLOW.LIST"), columns: ["name", "version", "title", "prefix", "items", "states"],
                                       as: output.chosen, empty: "no workflows loaded")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a loaded workflow's definition (YAML) as the server runs it.",
            discussion: """
                Example: docket workflow show policy-paper
                Example: docket workflow show policy-paper --version 1 > policy-paper.yaml
                """
        )

        @Argument(help: "Workflow name (paper, project and application work too).")
        var name: String

        @Option(help: ArgumentHelp("A specific version (default: the latest).", valueName: "n"))
        var version: Int?

        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            var args = ["WORKFLOW.GET", WorkflowKind.workflow(name)]
            if let version { args += ["VERSION", String(version)] }
            let command = args
            try await connection.withSession { s in
                let reply = try await s.call(command)
                if output.printJSON(JSONValue(reply)) { return }
                if Terminal.stdoutIsTTY {
                    Terminal.write("# \(reply.text("name")) version \(reply.text("version")), checksum \(reply.text("checksum").prefix(12))\n".styled(.dim))
                }
                let source = reply.text("source")
                Terminal.write(source.hasSuffix("\n") ? source : source + "\n")
            }
        }
    }

    struct Load: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load a workflow definition (a new version) into the server (admin).",
            discussion: """
                Items already running keep the version they started on. Check the file offline first
                with `docket workflow check FILE`.

                Example: docket workflow load Workflows/policy-paper.yaml
                """
        )

        @Argument(help: ArgumentHelp("Definition file, or - for standard input.", valueName: "file"))
        var file: String

        @OptionGroup var output: OutputOptions
        @OptionGroup var connection: ConnectionOptions

        func run() async throws {
            let yaml = try await reporting { try ReviseCommand.read(file) }
            try await connection.withSession(hints: ["INVALID": "run `docket workflow check \(file)` for every problem with its line"]) { s in
                let reply = try await s.call("WORKFLOW.LOAD", yaml)
                if output.printJSON(JSONValue(reply)) { return }
                Terminal.write("loaded \(reply.text("name")) version \(reply.text("version"))\n")
            }
        }
    }
}
