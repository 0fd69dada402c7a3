import DocketCore
import Foundation
import Testing

/// A small valid definition that each case below breaks in one way.
let validYAML = """
workflow: sample
version: 1
title: Sample
prefix: SM
fields:
  summary: { type: text }
  body: { type: document }
initial: drafting
states:
  drafting:
    due: 7d
    on:
      submit: { to: review, by: [author], require: [summary, body] }
  review:
    due: 7d
    review: { by: [reviewer], not: [author] }
    on:
      accept: { to: done, by: [chair], quorum: { approve: 2, reject: 0 } }
      expire: { to: done, after: 30d }
  done: { final: true }
"""

@Suite("Static checks")
struct WorkflowCheckerTests {
    @Test("the valid sample has no diagnostics")
    func validSample() throws {
        #expect(WorkflowDefinition.diagnose(yaml: validYAML).isEmpty)
        let (definition, warnings) = try WorkflowDefinition.load(yaml: validYAML)
        #expect(definition.name == "sample")
        #expect(definition.states.map(\.name) == ["drafting", "review", "done"])
        #expect(definition.state("review")?.transition("accept")?.quorum?.approve == Quorum.Bound(min: 2))
        #expect(definition.state("review")?.transition("accept")?.quorum?.reject == Quorum.Bound(max: 0))
        #expect(warnings.isEmpty)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let replace: String
        let with: String
        let message: String
        let line: Int
        let severity: Diagnostic.Severity
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "unknown target state", replace: "{ to: review, by: [author]", with: "{ to: reveiw, by: [author]",
             message: "transition \"submit\" of state \"drafting\": unknown target state \"reveiw\"", line: 13, severity: .error),
        Case(name: "unknown role", replace: "by: [chair]", with: "by: [president]",
             message: "unknown role \"president\"", line: 18, severity: .error),
        Case(name: "unknown field", replace: "require: [summary, body]", with: "require: [summary, abstract]",
             message: "requires unknown field \"abstract\"", line: 13, severity: .error),
        Case(name: "unreachable state", replace: "  done: { final: true }", with: "  done: { final: true }\n  limbo:\n    on:\n      out: { to: done, by: [chair] }",
             message: "state \"limbo\" is unreachable from the initial state \"drafting\"", line: 21, severity: .error),
        Case(name: "dead end", replace: "      expire: { to: done, after: 30d }", with: "      expire: { to: stuck, after: 30d }\n  stuck:\n    due: 1d\n    on:\n      again: { to: stuck, by: [chair] }",
             message: "state \"stuck\" is a dead end", line: 20, severity: .error),
        Case(name: "final state with transitions", replace: "  done: { final: true }", with: "  done:\n    final: true\n    on:\n      reopen: { to: drafting, by: [chair] }",
             message: "state \"done\" is final but has transitions", line: 23, severity: .error),
        Case(name: "quorum without review", replace: "on:\n      submit: { to: review, by: [author], require: [summary, body] }",
             with: "on:\n      submit: { to: review, by: [author], quorum: { approve: 1 } }",
             message: "counts votes but state \"drafting\" has no `review`", line: 13, severity: .error),
        Case(name: "endorsements without endorse", replace: "quorum: { approve: 2, reject: 0 }", with: "quorum: { approve: 2, endorsements: 3 }",
             message: "counts endorsements but state \"review\" does not have `endorse: true`", line: 18, severity: .error),
        Case(name: "timed transition with by", replace: "{ to: done, after: 30d }", with: "{ to: done, after: 30d, by: [chair] }",
             message: "is timed (`after`) so only the scheduler fires it", line: 19, severity: .error),
        Case(name: "human state without due", replace: "  drafting:\n    due: 7d\n", with: "  drafting:\n",
             message: "state \"drafting\" waits on people but has no `due`", line: 10, severity: .warning),
        Case(name: "unknown initial state", replace: "initial: drafting", with: "initial: start",
             message: "initial state \"start\" is not one of the states", line: 8, severity: .error),
        Case(name: "bad duration", replace: "due: 7d\n    review", with: "due: soon\n    review",
             message: "\"soon\" is not a duration", line: 15, severity: .error),
        Case(name: "transition nobody can fire", replace: "{ to: done, after: 30d }", with: "{ to: done }",
             message: "has neither `by` nor `after`", line: 19, severity: .error),
    ]

    @Test("each broken definition is reported with its line", arguments: cases)
    func brokenDefinition(_ c: Case) throws {
        #expect(validYAML.contains(c.replace), "the case must change the sample")
        let yaml = validYAML.replacingOccurrences(of: c.replace, with: c.with)
        let diagnostics = WorkflowDefinition.diagnose(yaml: yaml, file: "sample.yaml")
        let match = diagnostics.first { $0.message.contains(c.message) }
        #expect(match != nil, "expected \"\(c.message)\" in \(diagnostics)")
        #expect(match?.line == c.line)
        #expect(match?.severity == c.severity)
        #expect((match?.column ?? 0) >= 1)
        #expect(match?.description.hasPrefix("sample.yaml:\(c.line):") == true)
        if c.severity == .error {
            #expect(throws: WorkflowDefinitionError.self) { try WorkflowDefinition.load(yaml: yaml) }
        }
    }

    @Test("a YAML syntax error carries line and column")
    func yamlSyntaxError() {
        let yaml = "workflow: x\nstates:\n  a: { final: true\n  b: [\n"
        let diagnostics = WorkflowDefinition.diagnose(yaml: yaml)
        #expect(diagnostics.count == 1)
        #expect(diagnostics.first?.message.hasPrefix("YAML:") == true)
        #expect((diagnostics.first?.line ?? 0) >= 3)
    }

    @Test("duplicate state names are refused")
    func duplicateKeys() {
        let yaml = validYAML + "\n  done: { final: true }\n"
        let diagnostics = WorkflowDefinition.diagnose(yaml: yaml)
        #expect(diagnostics.contains { $0.message.contains("duplicate key \"done\"") })
    }

    @Test("several problems are all reported, in source order")
    func severalProblems() {
        let yaml = validYAML
            .replacingOccurrences(of: "{ to: review, by: [author]", with: "{ to: nowhere, by: [author]")
            .replacingOccurrences(of: "by: [chair]", with: "by: [king]")
        let messages = WorkflowDefinition.diagnose(yaml: yaml).map(\.message)
        #expect(messages.contains { $0.contains("unknown role \"king\"") })
        // Parse errors stop before the semantic checks, so fix the role and see the target.
        let second = WorkflowDefinition.diagnose(yaml: yaml.replacingOccurrences(of: "[king]", with: "[chair]"))
        #expect(second.contains { $0.message.contains("unknown target state \"nowhere\"") })
        #expect(second.contains { $0.message.contains("state \"review\" is unreachable") })
        let lines = second.map(\.line)
        #expect(lines == lines.sorted())
    }

    @Test("unknown keys are warnings, so other programs may add their own")
    func unknownKeyWarning() throws {
        let yaml = validYAML.replacingOccurrences(of: "prefix: SM", with: "prefix: SM\ncolour: blue")
        let (_, warnings) = try WorkflowDefinition.load(yaml: yaml)
        #expect(warnings.contains { $0.severity == .warning && $0.message.contains("unknown key \"colour\"") && $0.line == 5 })
    }
}
