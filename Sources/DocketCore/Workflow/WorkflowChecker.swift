/// The static checks every definition passes before it is loaded (`docket workflow check`).
///
/// Each diagnostic names the state or transition it concerns and points at its line and column.
public enum WorkflowChecker {
    /// Every problem in `definition`, errors and warnings, in source order.
    public static func check(_ definition: WorkflowDefinition, file: String? = nil) -> [Diagnostic] {
        var out = Output(definition: definition, file: file)
        let names = Set(definition.states.map(\.name))
        let fieldNames = Set(definition.fields.map(\.name))

        if definition.states.isEmpty {
            out.add(.error, "states", "the definition has no states")
            return out.sorted
        }
        if !names.contains(definition.initial) {
            out.add(.error, "initial", "initial state \"\(definition.initial)\" is not one of the states (\(definition.states.map(\.name).joined(separator: ", ")))")
        }
        if !definition.states.contains(where: \.final) {
            out.add(.error, "states", "no state is final: mark at least one with `final: true`")
        }
        for role in definition.create where role == .author || role == .assignee {
            out.add(.error, "create", "create: role \"\(role.rawValue)\" means nothing before the item exists")
        }

        for state in definition.states {
            let statePath = "states.\(state.name)"
            if state.final, !state.transitions.isEmpty {
                out.add(.error, statePath + ".on", "state \"\(state.name)\" is final but has transitions (\(state.transitions.map(\.name).joined(separator: ", ")))")
            }
            if state.isHuman, state.due == nil {
                out.add(.warning, statePath, "state \"\(state.name)\" waits on people but has no `due`: its items can never be overdue")
            }
            if let review = state.review {
                for role in review.by where role.kind == .relative {
                    out.add(.error, statePath + ".review.by", "state \"\(state.name)\": review by \"\(role.rawValue)\" is not a role that can vote (use reviewer, chair, drafter, secretariat or admin)")
                }
            }
            if let due = state.due {
                for offset in state.remind where offset >= due {
                    out.add(.warning, statePath + ".remind", "state \"\(state.name)\": reminder at \(offset) comes at or after the due time \(due)")
                }
            }
            for transition in state.transitions {
                checkTransition(transition, in: state, names: names, fields: fieldNames, into: &out)
            }
        }

        checkGraph(definition, names: names, into: &out)
        return out.sorted
    }

    static func checkTransition(
        _ t: TransitionDefinition, in state: StateDefinition, names: Set<String>, fields: Set<String>,
        into out: inout Output
    ) {
        let path = "states.\(state.name).on.\(t.name)"
        let what = "transition \"\(t.name)\" of state \"\(state.name)\""
        if !t.to.isEmpty, !names.contains(t.to) {
            out.add(.error, path + ".to", "\(what): unknown target state \"\(t.to)\"")
        }
        for field in t.require where !fields.contains(field) {
            out.add(.error, path + ".require", "\(what): requires unknown field \"\(field)\"")
        }
        if t.after != nil, !t.by.isEmpty {
            out.add(.error, path + ".by", "\(what) is timed (`after`) so only the scheduler fires it: remove `by`")
        }
        if t.after == nil, t.by.isEmpty {
            out.add(.error, path, "\(what) has neither `by` nor `after`: nobody could ever fire it")
        }
        if let quorum = t.quorum {
            if quorum.countsVotes, state.review == nil {
                out.add(.error, path + ".quorum", "\(what) counts votes but state \"\(state.name)\" has no `review`")
            }
            if quorum.endorsements != nil, !state.endorse {
                out.add(.error, path + ".quorum", "\(what) counts endorsements but state \"\(state.name)\" does not have `endorse: true`")
            }
        }
    }

    static func checkGraph(_ definition: WorkflowDefinition, names: Set<String>, into out: inout Output) {
        guard names.contains(definition.initial) else { return }
        var edges: [String: [String]] = [:]
        for state in definition.states {
            edges[state.name] = state.transitions.map(\.to).filter(names.contains)
        }
        // Forward: reachable from the initial state.
        var reachable: Set<String> = [definition.initial]
        var queue = [definition.initial]
        while let next = queue.popLast() {
            for target in edges[next, default: []] where reachable.insert(target).inserted {
                queue.append(target)
            }
        }
        // Backward: states from which some final state can be reached.
        var reverse: [String: [String]] = [:]
        for (from, targets) in edges {
            for target in targets { reverse[target, default: []].append(from) }
        }
        var finishing = Set(definition.states.filter(\.final).map(\.name))
        queue = Array(finishing)
        while let next = queue.popLast() {
            for source in reverse[next, default: []] where finishing.insert(source).inserted {
                queue.append(source)
            }
        }
        for state in definition.states {
            if !reachable.contains(state.name) {
                out.add(.error, "states.\(state.name)", "state \"\(state.name)\" is unreachable from the initial state \"\(definition.initial)\"")
            } else if !finishing.contains(state.name), definition.states.contains(where: \.final) {
                out.add(.error, "states.\(state.name)", "state \"\(state.name)\" is a dead end: no final state can be reached from it")
            }
        }
    }

    struct Output {
        let definition: WorkflowDefinition
        let file: String?
        var items: [Diagnostic] = []

        mutating func add(_ severity: Diagnostic.Severity, _ path: String, _ message: String) {
            let at = definition.locations.nearest(path) ?? SourceLocations.Location(line: 1, column: 1)
            items.append(Diagnostic(severity, line: at.line, column: at.column, message, file: file))
        }

        var sorted: [Diagnostic] {
            items.enumerated().sorted { a, b in
                (a.element.line, a.element.column, a.offset) < (b.element.line, b.element.column, b.offset)
            }.map(\.element)
        }
    }
}

extension WorkflowDefinition {
    /// Parses and checks `yaml`. Throws `WorkflowDefinitionError` when there is any error;
    /// returns the definition and its warnings otherwise.
    public static func load(yaml: String, file: String? = nil) throws(WorkflowDefinitionError) -> (WorkflowDefinition, [Diagnostic]) {
        let (definition, parsed) = WorkflowParser.parse(yaml, file: file)
        guard let definition, !parsed.hasErrors else {
            throw WorkflowDefinitionError(diagnostics: parsed.isEmpty ? [Diagnostic(.error, line: 1, column: 1, "not a workflow definition", file: file)] : parsed)
        }
        let all = parsed + WorkflowChecker.check(definition, file: file)
        if all.hasErrors { throw WorkflowDefinitionError(diagnostics: all) }
        return (definition, all)
    }

    /// Every diagnostic for `yaml`: parse problems, then the static checks when it parsed.
    public static func diagnose(yaml: String, file: String? = nil) -> [Diagnostic] {
        let (definition, parsed) = WorkflowParser.parse(yaml, file: file)
        guard let definition, !parsed.hasErrors else { return parsed }
        return parsed + WorkflowChecker.check(definition, file: file)
    }
}
