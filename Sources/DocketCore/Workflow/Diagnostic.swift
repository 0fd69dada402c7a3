/// A problem found in a workflow definition: where it is and what it concerns.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable { case error, warning }

    public var severity: Severity
    public var line: Int
    public var column: Int
    public var message: String
    /// The file it was read from, when known.
    public var file: String?

    public init(_ severity: Severity, line: Int, column: Int, _ message: String, file: String? = nil) {
        self.severity = severity
        self.line = line
        self.column = column
        self.message = message
        self.file = file
    }

    /// `Workflows/policy-paper.yaml:12:9: error: state "peer-review": ...`, the form compilers use.
    public var description: String {
        "\(file ?? "<definition>"):\(line):\(column): \(severity.rawValue): \(message)"
    }
}

extension Array where Element == Diagnostic {
    public var hasErrors: Bool { contains { $0.severity == .error } }
    public var errors: [Diagnostic] { filter { $0.severity == .error } }
}

/// A definition that failed to load, with every problem found.
public struct WorkflowDefinitionError: Error, Sendable, CustomStringConvertible {
    public var diagnostics: [Diagnostic]
    public init(diagnostics: [Diagnostic]) { self.diagnostics = diagnostics }
    public var description: String { diagnostics.errors.map(\.description).joined(separator: "\n") }
}
