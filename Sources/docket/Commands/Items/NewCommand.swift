import ArgumentParser

struct NewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: "Create a policy paper, thematic project or membership application.",
        discussion: """
            KIND is paper (policy-paper), project (thematic-project), application
            (membership-application) or the name of any loaded workflow. Prints the new item's id.

            Example: docket new paper "Green public procurement in member cities" --theme sustainability --group sustainability-wg --field summit="World Summit 2026"
            Example: docket new project "Safe streets for women" --group gender-equity-wg --field budget=40000 --json | jq -r .id
            """
    )

    @Argument(help: "paper, project, application, or a workflow name.")
    var kind: String

    @Argument(help: "The title.")
    var title: String

    @Option(help: ArgumentHelp("Theme slug (see `docket theme list`).", valueName: "slug"))
    var theme: String?

    @Option(help: ArgumentHelp("Working group that owns the item (see `docket group list`).", valueName: "slug"))
    var group: String?

    @Option(name: .customLong("field"), help: ArgumentHelp("A field value; repeat for more.", valueName: "name=value"))
    var fields: [String] = []

    @Option(help: ArgumentHelp("Idempotency key: running the command again with the same key creates nothing new.", valueName: "key"))
    var key: String?

    @OptionGroup var output: OutputOptions
    @OptionGroup var connection: ConnectionOptions

    func run() async throws {
        let workflow = WorkflowKind.workflow(kind)
        var args = ["ITEM.CREATE", workflow, title]
        if let theme { args += ["THEME", theme] }
        if let group { args += ["GROUP", group] }
        for field in fields {
            let (name, value) = try await reporting { try Assignment.parse(field) }
            args += ["FIELD", name, value]
        }
        if let key { args += ["KEY", key] }
        let command = args
        try await connection.withSession(hints: ["NOPERM": "creating a \(workflow) needs a role its definition names under create: (`docket workflow show \(workflow)`)"]) { s in
            let item = try await s.call(command)
            if output.printJSON(JSONValue(item)) { return }
            Terminal.write("created " + ItemSummary.line(item) + "\n")
            if let next = ItemSummary.next(item) { Terminal.write(next.styled(.dim) + "\n") }
        }
    }
}
