import Foundation

extension Engine {
    /// Roles allowed to edit an item's fields, document and milestones.
    public static let editors: [Role] = [.author, .drafter, .chair, .secretariat]
    /// Roles allowed to assign reviewers.
    public static let assigners: [Role] = [.chair, .secretariat]

    struct Context {
        let definition: WorkflowDefinition
        let item: ItemSnapshot
        let state: StateDefinition
        let actor: Actor
        let now: Date
        var roles: Set<Role> { actor.roles(on: item) }

        func event(_ type: EventType, comment: String? = nil, data: [String: String] = [:]) -> EventDraft {
            EventDraft(type: type, from: item.state, to: item.state, actor: actor.handle, at: now, comment: comment, data: data)
        }

        func decision(_ checks: [Check], _ event: @autoclosure () -> EventDraft, _ change: @autoclosure () -> Change) -> Decision {
            checks.allSatisfy(\.ok) ? Decision(checks: checks, event: event(), change: change()) : .refused(checks)
        }

        func roleCheck(_ allowed: [Role], doing what: String) -> Check {
            let holding = allowed.filter(roles.contains)
            return Check("role", !holding.isEmpty, holding.isEmpty
                ? "\(what) needs one of: \(Engine.describe(allowed)); \(actor.handle) holds \(Engine.describe(roles))"
                : "\(actor.handle) is \(Engine.describe(holding))")
        }

        func openCheck() -> Check {
            Check("open", !state.final, state.final ? "the item is in final state \"\(state.name)\"" : "state \"\(state.name)\" is not final")
        }

        // MARK: transitions

        func fire(_ name: String, comment: String?) -> Decision {
            guard let t = state.transition(name) else {
                let available = state.transitions.map(\.name)
                return .refused([Check("transition", false, "state \"\(state.name)\" has no transition \"\(name)\""
                    + (available.isEmpty ? " (it is final)" : " (it has: \(available.joined(separator: ", ")))"))])
            }
            var checks = [Check("transition", true, "\"\(name)\" leads from \(state.name) to \(t.to)")]
            if let after = t.after {
                let at = item.stateSince.adding(after)
                checks.append(Check("scheduler", actor.isSystem, actor.isSystem
                    ? "fired by the scheduler"
                    : "only the scheduler fires \"\(name)\", \(after) after the item entered \(state.name)"))
                checks.append(Check("time", now >= at, now >= at
                    ? "\(after) have passed since the item entered \(state.name)"
                    : "fires at \(Timestamp.format(at)), \(after) after the item entered \(state.name)"))
            } else {
                checks.append(roleCheck(t.by, doing: "\"\(name)\""))
            }
            let excluded = t.not.filter(roles.contains)
            if !t.not.isEmpty {
                checks.append(Check("not", excluded.isEmpty, excluded.isEmpty
                    ? "\(actor.handle) is none of: \(Engine.describe(t.not))"
                    : "\(actor.handle) may not fire \"\(name)\" as \(Engine.describe(excluded))"))
            }
            for field in t.require { checks.append(requireCheck(field)) }
            if let quorum = t.quorum { checks += quorumChecks(quorum) }
            guard checks.allSatisfy(\.ok), let target = definition.state(t.to) else { return .refused(checks) }
            let entry = Engine.enter(target, at: now)
            let event = EventDraft(type: .transition, transition: name, from: state.name, to: t.to,
                                   actor: actor.handle, at: now, comment: comment)
            return Decision(checks: checks, event: event, change: .transition(to: t.to, dueAt: entry.dueAt, timers: entry.timers))
        }

        func requireCheck(_ field: String) -> Check {
            if definition.field(field)?.type == .document {
                let ok = item.revisions > 0
                return Check("require:\(field)", ok, ok ? "\(field) has \(item.revisions) revision(s)" : "\(field) has no revision yet")
            }
            let value = item.fields[field]?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            return Check("require:\(field)", !value.isEmpty, value.isEmpty ? "\(field) is empty" : "\(field) is filled")
        }

        /// Votes that count: the current round, and with stale-on-revision only those cast on
        /// the latest revision.
        var countedVotes: [Vote] {
            guard state.review?.staleOnRevision == true else { return item.votes }
            return item.votes.filter { $0.revision >= item.revisions }
        }

        func quorumChecks(_ q: Quorum) -> [Check] {
            var checks: [Check] = []
            let votes = countedVotes
            let stale = item.votes.count - votes.count
            let staleNote = stale > 0 ? " (\(stale) stale vote\(stale == 1 ? "" : "s") not counted)" : ""
            func count(_ verdict: Verdict) -> Int { votes.filter { $0.verdict == verdict }.count }
            let pairs: [(String, Quorum.Bound?, Int, String)] = [
                ("approve", q.approve, count(.approve), "approvals"),
                ("changes", q.changes, count(.changes), "requests for changes"),
                ("reject", q.reject, count(.reject), "rejections"),
            ]
            for (name, bound, n, noun) in pairs {
                guard let bound else { continue }
                checks.append(Check("quorum:\(name)", bound.holds(n), "\(n) \(noun) in this round, needs \(bound.description)\(staleNote)"))
            }
            if let bound = q.endorsements {
                let n = item.endorsements.count
                checks.append(Check("quorum:endorsements", bound.holds(n), "\(n) endorsement\(n == 1 ? "" : "s"), needs \(bound.description)"))
            }
            if let m = q.milestones {
                let done = item.milestones.filter { $0.doneAt != nil }.count
                let total = item.milestones.count
                switch m {
                case .all:
                    let ok = total > 0 && done == total
                    checks.append(Check("quorum:milestones", ok, total == 0 ? "no milestones yet, needs all done" : "\(done) of \(total) milestones done, needs all"))
                case let .atLeast(n):
                    checks.append(Check("quorum:milestones", done >= n, "\(done) of \(total) milestones done, needs at least \(n)"))
                }
            }
            return checks
        }

        // MARK: editing

        func setField(_ name: String, _ value: String) -> Decision {
            let checks = [openCheck(), roleCheck(Engine.editors, doing: "editing fields"), Engine.fieldCheck(definition, name, value)]
            return decision(checks, event(.field, data: ["field": name, "value": value]), .field(name: name, value: value))
        }

        func revise(_ text: String, note: String?) -> Decision {
            let document = definition.fields.first { $0.type == .document }
            let checks = [
                openCheck(), roleCheck(Engine.editors, doing: "revising the document"),
                Check("document", document != nil, document.map { "field \"\($0.name)\" is a document" } ?? "\(definition.name) has no document field"),
            ]
            let number = item.revisions + 1
            let sha = SHA256Hex.digest(text)
            var data = ["revision": String(number), "sha256": sha]
            if let note { data["note"] = note }
            return decision(checks, event(.revision, data: data), .revision(number: number, text: text, note: note, sha256: sha))
        }

        // MARK: reviews and endorsements

        func vote(_ verdict: Verdict, comment: String?) -> Decision {
            guard let review = state.review else {
                return .refused([Check("review", false, "nobody reviews in state \"\(state.name)\"")])
            }
            var checks = [Check("review", true, "state \"\(state.name)\" is under review")]
            let assigned = item.assignees.contains(actor.handle)
            let holding = review.by.filter(roles.contains)
            checks.append(Check("role", assigned || !holding.isEmpty, assigned
                ? "\(actor.handle) is an assigned reviewer"
                : holding.isEmpty ? "voting needs one of: \(Engine.describe(review.by)), or an assignment; \(actor.handle) holds \(Engine.describe(roles))"
                : "\(actor.handle) is \(Engine.describe(holding))"))
            let isAuthor = actor.handle == item.author
            checks.append(Check("separation", !isAuthor, isAuthor ? "the author cannot review their own item" : "\(actor.handle) is not the author"))
            let excluded = review.not.filter { $0 != .author && roles.contains($0) }
            if !excluded.isEmpty {
                checks.append(Check("not", false, "\(actor.handle) may not review as \(Engine.describe(excluded))"))
            }
            let vote = Vote(reviewer: actor.handle, verdict: verdict, revision: item.revisions, at: now, comment: comment)
            return decision(checks, event(.vote, comment: comment, data: ["verdict": verdict.rawValue, "round": String(item.round)]), .vote(vote))
        }

        func endorse(_ member: String, comment: String?) -> Decision {
            var checks = [Check("endorse", state.endorse, state.endorse ? "members may endorse in \(state.name)" : "members cannot endorse in state \"\(state.name)\"")]
            checks.append(representsCheck(member))
            let already = item.endorsements.contains { $0.member == member }
            checks.append(Check("once", !already, already ? "\(member) has already endorsed" : "\(member) has not endorsed yet"))
            let e = Endorsement(member: member, by: actor.handle, at: now, comment: comment)
            return decision(checks, event(.endorsement, comment: comment, data: ["member": member, "action": "endorse"]), .endorsement(e))
        }

        func withdraw(_ member: String) -> Decision {
            let present = item.endorsements.contains { $0.member == member }
            let checks = [
                Check("endorse", state.endorse, state.endorse ? "endorsements may change in \(state.name)" : "endorsements are closed in state \"\(state.name)\""),
                representsCheck(member),
                Check("endorsed", present, present ? "\(member) has endorsed" : "\(member) has not endorsed"),
            ]
            return decision(checks, event(.endorsement, data: ["member": member, "action": "withdraw"]), .endorsementWithdrawn(member: member))
        }

        func representsCheck(_ member: String) -> Check {
            if actor.member == member { return Check("represents", true, "\(actor.handle) represents \(member)") }
            if actor.globalRoles.contains(.secretariat) { return Check("represents", true, "the secretariat records it for \(member)") }
            return Check("represents", false, "\(actor.handle) does not represent \(member)")
        }

        // MARK: the rest

        func comment(_ text: String) -> Decision {
            let empty = text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
            return decision([Check("text", !empty, empty ? "the comment is empty" : "comment")], event(.comment, comment: text), .none)
        }

        func assign(_ users: [String]) -> Decision {
            var checks = [openCheck(), roleCheck(Engine.assigners, doing: "assigning reviewers")]
            checks.append(Check("reviewers", !users.isEmpty, users.isEmpty ? "no reviewer named" : users.joined(separator: ", ")))
            if users.contains(item.author) {
                checks.append(Check("separation", false, "the author \(item.author) cannot review their own item"))
            }
            let all = Array(Set(item.assignees + users)).sorted()
            return decision(checks, event(.assignment, data: ["reviewers": users.joined(separator: ",")]), .assignment(all))
        }

        func addMilestone(_ title: String, due: Date?) -> Decision {
            let empty = title.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
            let checks = [openCheck(), roleCheck(Engine.editors, doing: "adding milestones"),
                          Check("title", !empty, empty ? "the milestone has no title" : title)]
            let number = (item.milestones.map(\.number).max() ?? 0) + 1
            var data = ["milestone": String(number), "title": title, "action": "add"]
            if let due { data["due"] = Timestamp.format(due) }
            return decision(checks, event(.milestone, data: data), .milestoneAdded(Milestone(number: number, title: title, due: due)))
        }

        func completeMilestone(_ number: Int) -> Decision {
            let milestone = item.milestones.first { $0.number == number }
            let checks = [
                openCheck(), roleCheck(Engine.editors, doing: "completing milestones"),
                Check("milestone", milestone != nil && milestone?.doneAt == nil, milestone == nil
                    ? "there is no milestone \(number)" : milestone?.doneAt != nil ? "milestone \(number) is already done" : "milestone \(number) is open"),
            ]
            return decision(checks, event(.milestone, data: ["milestone": String(number), "action": "done"]), .milestoneDone(number: number, at: now))
        }

        func remind(_ index: Int) -> Decision {
            let checks = [
                Check("scheduler", actor.isSystem, actor.isSystem ? "sent by the scheduler" : "only the scheduler sends reminders"),
                Check("reminder", state.remind.indices.contains(index), state.remind.indices.contains(index)
                    ? "reminder \(index + 1) of \(state.name), \(state.remind[index]) after entry" : "state \(state.name) has no reminder \(index + 1)"),
            ]
            var data = ["reminder": String(index + 1)]
            if let due = item.dueAt { data["due_at"] = Timestamp.format(due) }
            return decision(checks, event(.reminder, data: data), .none)
        }
    }
}
