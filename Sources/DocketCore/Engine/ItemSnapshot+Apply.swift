import Foundation

extension ItemSnapshot {
    /// The item after `change`, decided at `now` under `definition`: what the store writes back.
    /// The version goes up by one, as every event bumps it.
    public func applying(_ change: Change, definition: WorkflowDefinition, now: Date) -> ItemSnapshot {
        var next = self
        next.version += 1
        switch change {
        case let .created(state, dueAt, _, fields):
            next.state = state
            next.stateSince = now
            next.dueAt = dueAt
            next.fields = fields
            next.version = 1
        case let .transition(to, dueAt, _):
            next.state = to
            next.stateSince = now
            next.dueAt = dueAt
            next.round += 1
            next.votes = []
            // Reviewers are assigned per visit to a review state.
            next.assignees = []
        case let .field(name, value):
            next.fields[name] = value
        case let .revision(number, _, _, _):
            next.revisions = number
        case let .vote(vote):
            next.votes.removeAll { $0.reviewer == vote.reviewer }
            next.votes.append(vote)
        case let .endorsement(e):
            next.endorsements.append(e)
        case let .endorsementWithdrawn(member):
            next.endorsements.removeAll { $0.member == member }
        case let .assignment(all):
            next.assignees = all
        case let .milestoneAdded(m):
            next.milestones.append(m)
        case let .milestoneDone(number, at):
            if let i = next.milestones.firstIndex(where: { $0.number == number }) { next.milestones[i].doneAt = at }
        case .none:
            break
        }
        return next
    }

    /// Who the item waits on now: assigned reviewers who have not voted this round (`pending`),
    /// or else the roles that can fire its transitions (`.author` meaning its author). Nil for
    /// final states.
    public func waiting(_ definition: WorkflowDefinition) -> (pending: [String], roles: [Role])? {
        guard let state = definition.state(self.state), !state.final else { return nil }
        if state.review != nil, !assignees.isEmpty {
            let voted = Set(votes.map(\.reviewer))
            let pending = assignees.filter { !voted.contains($0) }
            if !pending.isEmpty { return (pending, []) }
        }
        var roles: [Role] = []
        for t in state.transitions where t.after == nil {
            for role in t.by where !roles.contains(role) { roles.append(role) }
        }
        return ([], roles)
    }

    /// `waiting(_:)` as names: the pending reviewers, or the roles with the author's handle for
    /// `author`. Empty for final states.
    public func waitingOn(_ definition: WorkflowDefinition) -> [String] {
        guard let waiting = waiting(definition) else { return [] }
        if !waiting.pending.isEmpty { return waiting.pending }
        var names: [String] = []
        for role in waiting.roles {
            let name = role == .author ? author : role.rawValue
            if !names.contains(name) { names.append(name) }
        }
        return names
    }
}
