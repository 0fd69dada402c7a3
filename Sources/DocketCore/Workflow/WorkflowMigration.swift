/// Moving a running item from one version of its workflow to another.
public enum WorkflowMigration {
    public struct Plan: Sendable, Hashable {
        public var item: String
        public var fromState: String
        /// Where the item lands; nil when it would be stranded.
        public var toState: String?
        public var problem: String?
        public var ok: Bool { problem == nil }
    }

    /// Where `item` would land in `target`: the state of the same name, or the one that
    /// `replaces` it. Stranded when its state is gone or a field value no longer fits its type.
    public static func plan(_ item: ItemSnapshot, to target: WorkflowDefinition) -> Plan {
        var plan = Plan(item: item.id, fromState: item.state, toState: nil, problem: nil)
        guard let state = target.state(item.state) ?? target.states.first(where: { $0.replaces.contains(item.state) }) else {
            plan.problem = "state \"\(item.state)\" does not exist in version \(target.version) and no state replaces it"
            return plan
        }
        for (name, value) in item.fields.sorted(by: { $0.key < $1.key }) {
            let check = Engine.fieldCheck(target, name, value)
            if !check.ok {
                plan.problem = "field \(name): \(check.detail)"
                return plan
            }
        }
        plan.toState = state.name
        return plan
    }
}
