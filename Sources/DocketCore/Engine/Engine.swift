import Foundation

/// The workflow engine: one pure function decides every command, and the same function
/// explains it, so an explanation can never disagree with what would happen.
public enum Engine {
    /// Decides `command` by `actor` on `item` at `now`.
    ///
    /// A refusal lists every failed check, not just the first.
    public static func decide(
        _ definition: WorkflowDefinition, _ item: ItemSnapshot, actor: Actor, command: Command, now: Date
    ) -> Decision {
        guard let state = definition.state(item.state) else {
            return .refused([Check("state", false, "the item is in state \"\(item.state)\", which version \(definition.version) of \(definition.name) does not define")])
        }
        let ctx = Context(definition: definition, item: item, state: state, actor: actor, now: now)
        switch command {
        case let .fire(name, comment): return ctx.fire(name, comment: comment)
        case let .setField(name, value): return ctx.setField(name, value)
        case let .revise(text, note): return ctx.revise(text, note: note)
        case let .vote(verdict, comment): return ctx.vote(verdict, comment: comment)
        case let .endorse(member, comment): return ctx.endorse(member, comment: comment)
        case let .withdrawEndorsement(member): return ctx.withdraw(member)
        case let .comment(text): return ctx.comment(text)
        case let .assign(users): return ctx.assign(users)
        case let .addMilestone(title, due): return ctx.addMilestone(title, due: due)
        case let .completeMilestone(number): return ctx.completeMilestone(number)
        case let .remind(index): return ctx.remind(index)
        }
    }

    /// Decides the creation of a new item.
    public static func decideCreate(
        _ definition: WorkflowDefinition, _ new: NewItem, actor: Actor, now: Date
    ) -> Decision {
        var checks: [Check] = []
        let roles = actor.roles(group: new.group)
        let creators = definition.creators
        let holding = creators.filter(roles.contains)
        checks.append(Check("role", !holding.isEmpty, holding.isEmpty
            ? "creating a \(definition.title.lowercased()) needs one of: \(describe(creators))\(new.group.map { " (in group \($0))" } ?? ""); you hold \(describe(roles))"
            : "you are \(describe(holding))"))
        let title = new.title.trimmingCharacters(in: .whitespacesAndNewlines)
        checks.append(Check("title", !title.isEmpty, title.isEmpty ? "the title is empty" : "\"\(title)\""))
        for (name, value) in new.fields.sorted(by: { $0.key < $1.key }) {
            checks.append(fieldCheck(definition, name, value))
        }
        guard checks.allSatisfy(\.ok), let initial = definition.state(definition.initial) else {
            return .refused(checks)
        }
        let entry = enter(initial, at: now)
        let event = EventDraft(type: .created, from: "", to: initial.name, actor: actor.handle, at: now,
                               data: new.fields.isEmpty ? [:] : ["fields": new.fields.keys.sorted().joined(separator: ",")])
        return Decision(checks: checks, event: event,
                        change: .created(state: initial.name, dueAt: entry.dueAt, timers: entry.timers, fields: new.fields))
    }

    /// Whether `actor` may see `item` at all. States with `visible-to` hide their items from
    /// everyone outside those roles; the author, admins and the scheduler always see them.
    public static func canSee(_ definition: WorkflowDefinition?, _ item: ItemSnapshot, actor: Actor) -> Bool {
        guard let visibleTo = definition?.state(item.state)?.visibleTo else { return true }
        if actor.isSystem || actor.globalRoles.contains(.admin) || actor.handle == item.author { return true }
        return !actor.roles(on: item).isDisjoint(with: visibleTo)
    }

    /// Due time and timers of an item entering `state` at `now`.
    public static func enter(_ state: StateDefinition, at now: Date) -> (dueAt: Date?, timers: [TimerDraft]) {
        var timers = state.remind.enumerated().map { TimerDraft(kind: .reminder(index: $0.offset), fireAt: now.adding($0.element)) }
        for t in state.transitions {
            if let after = t.after { timers.append(TimerDraft(kind: .transition(t.name), fireAt: now.adding(after))) }
        }
        return (state.due.map(now.adding), timers)
    }

    /// Checks a field value against its declared type.
    public static func fieldCheck(_ definition: WorkflowDefinition, _ name: String, _ value: String) -> Check {
        guard let field = definition.field(name) else {
            let known = definition.fields.filter { $0.type != .document }.map(\.name).joined(separator: ", ")
            return Check("field:\(name)", false, "\(definition.name) has no field \"\(name)\" (fields: \(known.isEmpty ? "none" : known))")
        }
        switch field.type {
        case .text:
            return Check("field:\(name)", true, "text")
        case .document:
            return Check("field:\(name)", false, "\"\(name)\" is a document: write it with ITEM.REVISE")
        case .number:
            let ok = Double(value) != nil && !value.contains(where: \.isLetter)
            return Check("field:\(name)", ok, ok ? "number" : "\"\(value)\" is not a number")
        case .date:
            let ok = parseDate(value) != nil
            return Check("field:\(name)", ok, ok ? "date" : "\"\(value)\" is not a date (write 2026-11-28)")
        case let .choice(values):
            let ok = values.contains(value)
            return Check("field:\(name)", ok, ok ? "one of the choices" : "\"\(value)\" is not one of: \(values.joined(separator: ", "))")
        }
    }

    /// Parses a calendar date `YYYY-MM-DD`.
    public static func parseDate(_ text: String) -> Date? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let components = DateComponents(year: y, month: m, day: d)
        guard let date = calendar.date(from: components),
              calendar.component(.day, from: date) == d, calendar.component(.month, from: date) == m else { return nil }
        return date
    }

    static func describe<S: Sequence>(_ roles: S) -> String where S.Element == Role {
        let names = roles.map(\.rawValue).sorted()
        return names.isEmpty ? "no role" : names.joined(separator: ", ")
    }


}
