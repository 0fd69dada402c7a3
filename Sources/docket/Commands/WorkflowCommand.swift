import ArgumentParser
import DocketCore
import Foundation

struct WorkflowCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "workflow",
        abstract: "Check and draw workflow definitions; list, show and load them on the server.",
        discussion: """
            check and graph read definition files and need no server; list, show and load talk
            to the server.

            Example: docket workflow check
            Example: docket workflow list
            """,
        subcommands: [Check.self, Graph.self, List.self, Show.self, Load.self]
    )

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check workflow definitions for errors.",
            discussion: """
                Prints each problem as FILE:LINE:COLUMN: severity: message. Exits 0 when no
                file has errors (warnings are allowed), 1 otherwise.

                Example: docket workflow check Workflows/policy-paper.yaml
                """
        )

        @Argument(help: "Definition files (default: every .yaml in the workflows directory).")
        var files: [String] = []

        @Option(help: "Directory of definitions when no file is named.")
        var workflows = "Workflows"

        @Flag(help: "Print nothing for clean files.")
        var quiet = false

        func run() throws {
            let paths = files.isEmpty ? try definitionFiles(in: workflows) : files
            var errors = 0
            var warnings = 0
            for path in paths {
                guard let yaml = try? String(contentsOfFile: path, encoding: .utf8) else {
                    print("\(path):1:1: error: cannot read the file")
                    errors += 1
                    continue
                }
                let diagnostics = WorkflowDefinition.diagnose(yaml: yaml, file: path)
                for d in diagnostics { print(d.description) }
                errors += diagnostics.errors.count
                warnings += diagnostics.count - diagnostics.errors.count
                if diagnostics.isEmpty, !quiet { print("\(path): ok") }
            }
            if errors > 0 || warnings > 0 {
                print("\(errors) error\(errors == 1 ? "" : "s"), \(warnings) warning\(warnings == 1 ? "" : "s") in \(paths.count) file\(paths.count == 1 ? "" : "s")")
            }
            if errors > 0 { throw ExitCode(Exit.failure) }
        }
    }

    struct Graph: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a workflow's state diagram.",
            discussion: """
                Example: docket workflow graph policy-paper --format mermaid
                         docket workflow graph policy-paper | dot -Tsvg > policy-paper.svg
                """
        )

        @Argument(help: "Workflow name (a file in the workflows directory) or a path to a definition.")
        var name: String

        @Option(help: "dot or mermaid.")
        var format: WorkflowGraph.Format = .dot

        @Option(help: "Directory of definitions.")
        var workflows = "Workflows"

        func run() throws {
            let path = name.hasSuffix(".yaml") || name.contains("/") ? name : try findDefinition(named: name, in: workflows)
            guard let yaml = try? String(contentsOfFile: path, encoding: .utf8) else {
                fail("cannot read \(path)", code: Exit.notFound)
            }
            do {
                let (definition, _) = try WorkflowDefinition.load(yaml: yaml, file: path)
                print(WorkflowGraph.render(definition, as: format), terminator: "")
            } catch {
                fail("\(path) has errors; run `docket workflow check \(path)`:\n\(error.description)", code: Exit.invalid)
            }
        }
    }
}

extension WorkflowGraph.Format: ExpressibleByArgument {}

func definitionFiles(in directory: String) throws -> [String] {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
        fail("no workflows directory at \(directory): name files, or pass --workflows DIR", code: Exit.notFound)
    }
    return names.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted().map { "\(directory)/\($0)" }
}

/// The file in `directory` whose `workflow:` is `name` (usually `name.yaml`).
func findDefinition(named name: String, in directory: String) throws -> String {
    let direct = "\(directory)/\(name).yaml"
    if FileManager.default.fileExists(atPath: direct) { return direct }
    for path in try definitionFiles(in: directory) {
        if let yaml = try? String(contentsOfFile: path, encoding: .utf8),
           let definition = WorkflowParser.parse(yaml).0, definition.name == name {
            return path
        }
    }
    fail("no workflow named \(name) in \(directory) (see `docket workflow check` for what is there)", code: Exit.notFound)
}
