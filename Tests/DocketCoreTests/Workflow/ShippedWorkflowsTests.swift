import DocketCore
import Foundation
import Testing

/// The definitions in `Workflows/` that ship with Docket.
enum Shipped {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Workflows")

    static func yaml(_ name: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent("\(name).yaml"), encoding: .utf8)
    }

    static func definition(_ name: String) throws -> WorkflowDefinition {
        try WorkflowDefinition.load(yaml: yaml(name), file: "\(name).yaml").0
    }
}

@Suite("Shipped workflows")
struct ShippedWorkflowsTests {
    @Test("each shipped definition passes every check", arguments: ["policy-paper", "thematic-project", "membership-application"])
    func clean(_ name: String) throws {
        let diagnostics = WorkflowDefinition.diagnose(yaml: try Shipped.yaml(name), file: name)
        #expect(diagnostics.isEmpty, "\(diagnostics)")
        let definition = try Shipped.definition(name)
        #expect(definition.name == name)
        #expect(definition.states.contains { $0.final })
    }

    @Test("thematic projects run through milestones")
    func thematicStates() throws {
        let d = try Shipped.definition("thematic-project")
        #expect(["proposal", "appraisal", "approval", "active", "reporting", "completed", "cancelled"].allSatisfy { d.state($0) != nil })
        #expect(d.state("active")?.transition("report")?.quorum?.milestones == .all)
    }

    @Test("graphs name every state and transition")
    func graphs() throws {
        let d = try Shipped.definition("policy-paper")
        let dot = WorkflowGraph.render(d, as: .dot)
        #expect(dot.hasPrefix("digraph \"policy-paper\""))
        #expect(dot.contains("\"peer-review\" -> \"secretariat-review\" [label=\"accept by chair\"]"))
        #expect(dot.contains("\"endorsement\" -> \"archived\" [label=\"lapse after 60d\", style=dashed]"))
        let mermaid = WorkflowGraph.render(d, as: .mermaid)
        #expect(mermaid.hasPrefix("stateDiagram-v2\n  [*] --> drafting"))
        #expect(mermaid.contains("peer_review --> secretariat_review: accept by chair"))
        #expect(mermaid.contains("adopted --> [*]"))
    }
}
