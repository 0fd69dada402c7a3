import DocketCore
import DocketStore
import DocketWire
import Foundation

extension CommandRouter {
    static let workflowCommands: [String: Handler] = [
        "WORKFLOW.LIST": { router, args, session throws(CommandError) in
            try args.require(0, atMost: 0)
            return router.later(session) { _, _ in
                .array(try await router.services.store.workflows().map { w in
                    Reply.map([("name", .bulk(w.name)), ("version", .integer(Int64(w.version))), ("title", .bulk(w.title)),
                               ("prefix", .bulk(w.prefix)), ("states", .array(w.states.map { .bulk($0) })), ("items", .integer(Int64(w.items)))])
                })
            }
        },
        "WORKFLOW.GET": { router, args, session throws(CommandError) in
            try args.require(1)
            let o = try args.options(after: 1, values: ["VERSION"])
            let (name, version) = (args[0], try o.int("VERSION"))
            return router.later(session) { _, _ in
                let w = try await router.services.store.workflowSource(name, version: version)
                return Reply.map([("name", .bulk(name)), ("version", .integer(Int64(w.version))), ("title", .bulk(w.title)),
                                  ("source", .bulk(w.source)), ("checksum", .bulk(w.checksum))])
            }
        },
        // Parsing a definition (up to 1 MiB) can take a while: never on the event loop, where it
        // would hold up every other connection the loop serves.
        "WORKFLOW.CHECK": { router, args, session throws(CommandError) in
            try args.require(1, atMost: 1)
            let yaml = args[0]
            return router.later(session) { _, _ in
                .array(WorkflowDefinition.diagnose(yaml: yaml).map { d in
                    Reply.map([("severity", .bulk(d.severity.rawValue)), ("line", .integer(Int64(d.line))),
                               ("column", .integer(Int64(d.column))), ("message", .bulk(d.message))])
                })
            }
        },
        "WORKFLOW.LOAD": { router, args, session throws(CommandError) in
            try args.require(1, atMost: 1)
            try router.requireRole(session, [.admin], "WORKFLOW.LOAD")
            let yaml = args[0]
            return router.later(session) { _, _ in
                let errors = WorkflowDefinition.diagnose(yaml: yaml).errors
                if !errors.isEmpty {
                    throw CommandError.invalid(errors.map { "\($0.line):\($0.column): \($0.message)" }.joined(separator: "; "))
                }
                let loaded = try await router.services.store.loadWorkflow(yaml: yaml)
                return Reply.map([("name", .bulk(loaded.name)), ("version", .integer(Int64(loaded.version)))])
            }
        },
        "WORKFLOW.GRAPH": { router, args, session throws(CommandError) in
            try args.require(1, atMost: 2)
            let format: WorkflowGraph.Format
            switch args.count == 2 ? args[1].uppercased() : "DOT" {
            case "DOT": format = .dot
            case "MERMAID": format = .mermaid
            default: throw .syntax("format must be DOT or MERMAID")
            }
            let name = args[0]
            return router.later(session) { _, _ in .bulk(WorkflowGraph.render(try await router.services.store.definition(name), as: format)) }
        },
    ]
}
