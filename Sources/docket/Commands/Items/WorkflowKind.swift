/// The short names drafters use for the shipped workflows.
enum WorkflowKind {
    static let aliases: [String: String] = [
        "paper": "policy-paper",
        "project": "thematic-project",
        "application": "membership-application",
    ]

    /// `paper` → `policy-paper`; any other name is taken as a workflow name.
    static func workflow(_ kind: String) -> String {
        aliases[kind.lowercased()] ?? kind
    }
}

/// `name=value` arguments.
enum Assignment {
    static func parse(_ text: String, what: String = "field") throws -> (String, String) {
        guard let eq = text.firstIndex(of: "="), eq != text.startIndex else {
            throw CLIFailure(.usage, "'\(text)' is not \(what)=value", hint: "write e.g. summary='Buying green across the section'")
        }
        return (String(text[..<eq]), String(text[text.index(after: eq)...]))
    }
}
