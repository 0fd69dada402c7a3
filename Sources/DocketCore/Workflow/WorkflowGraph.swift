/// State diagrams of a workflow for `docket workflow graph`.
public enum WorkflowGraph {
    public enum Format: String, Sendable, CaseIterable { case dot, mermaid }

    public static func render(_ definition: WorkflowDefinition, as format: Format) -> String {
        switch format {
        case .dot: dot(definition)
        case .mermaid: mermaid(definition)
        }
    }

    static func label(_ t: TransitionDefinition) -> String {
        var parts = [t.name]
        if let after = t.after { parts.append("after \(after)") }
        if !t.by.isEmpty { parts.append("by " + t.by.map(\.rawValue).joined(separator: "|")) }
        return parts.joined(separator: " ")
    }

    static func dot(_ d: WorkflowDefinition) -> String {
        var lines = ["digraph \"\(d.name)\" {", "  rankdir=LR;", "  label=\"\(d.title) (v\(d.version))\";",
                     "  node [shape=box, style=rounded];", "  \"__start\" [shape=point];",
                     "  \"__start\" -> \"\(d.initial)\";"]
        for state in d.states {
            var attributes = ["label=\"\(state.name)\(state.due.map { "\\ndue \($0)" } ?? "")\""]
            if state.final { attributes.append("peripheries=2") }
            lines.append("  \"\(state.name)\" [\(attributes.joined(separator: ", "))];")
        }
        for state in d.states {
            for t in state.transitions {
                let style = t.isTimed ? ", style=dashed" : ""
                lines.append("  \"\(state.name)\" -> \"\(t.to)\" [label=\"\(label(t))\"\(style)];")
            }
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    static func mermaid(_ d: WorkflowDefinition) -> String {
        func id(_ name: String) -> String { name.replacingOccurrences(of: "-", with: "_") }
        var lines = ["stateDiagram-v2", "  [*] --> \(id(d.initial))"]
        for state in d.states where id(state.name) != state.name {
            lines.append("  state \"\(state.name)\" as \(id(state.name))")
        }
        for state in d.states {
            for t in state.transitions {
                lines.append("  \(id(state.name)) --> \(id(t.to)): \(label(t))")
            }
            if state.final { lines.append("  \(id(state.name)) --> [*]") }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
