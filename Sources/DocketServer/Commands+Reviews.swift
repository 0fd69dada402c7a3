import DocketCore
import DocketStore
import DocketWire
import Foundation

extension CommandRouter {
    /// Vote counts of the current round; stale votes are counted apart.
    func voteCounts(_ item: ItemSnapshot) async -> RESPValue {
        let definition = try? await services.store.definition(item.workflow, version: item.workflowVersion)
        let staleOnRevision = definition?.state(item.state)?.review?.staleOnRevision ?? false
        let fresh = item.votes.filter { !staleOnRevision || $0.revision >= item.revisions }
        func n(_ v: Verdict) -> RESPValue { .integer(Int64(fresh.filter { $0.verdict == v }.count)) }
        return Reply.map([("approve", n(.approve)), ("changes", n(.changes)), ("reject", n(.reject)),
                          ("stale", .integer(Int64(item.votes.count - fresh.count)))])
    }

    static let reviewCommands: [String: Handler] = [
        "REVIEW.ASSIGN": { router, args, session throws(CommandError) in
            try args.require(2)
            let users = Array(args.words.dropFirst())
            return router.apply(session, args[0], .assign(users)) { _, a in .integer(Int64(a.item.assignees.count)) }
        },
        "REVIEW.VOTE": { router, args, session throws(CommandError) in
            try args.require(2)
            guard let verdict = Verdict(rawValue: args[1].lowercased()) else { throw .syntax("vote must be APPROVE, CHANGES or REJECT, not '\(args[1])'") }
            let o = try args.options(after: 2, values: ["COMMENT"])
            return router.apply(session, args[0], .vote(verdict, comment: o["COMMENT"])) { r, a in await r.voteCounts(a.item) }
        },
        "REVIEW.LIST": { router, args, session throws(CommandError) in
            try args.require(1, atMost: 1)
            let id = args[0]
            return router.later(session) { actor, _ in
                let item = try await router.services.store.item(id, actor: actor)
                let definition = try? await router.services.store.definition(item.workflow, version: item.workflowVersion)
                let staleOnRevision = definition?.state(item.state)?.review?.staleOnRevision ?? false
                var rows: [RESPValue] = item.votes.map { v in
                    Reply.map([("reviewer", .bulk(v.reviewer)), ("vote", .bulk(v.verdict.rawValue)), ("at", Reply.time(v.at)),
                               ("stale", .boolean(staleOnRevision && v.revision < item.revisions)), ("comment", Reply.text(v.comment))])
                }
                // Assigned reviewers who have not voted yet.
                for reviewer in item.assignees where !item.votes.contains(where: { $0.reviewer == reviewer }) {
                    rows.append(Reply.map([("reviewer", .bulk(reviewer)), ("vote", .null), ("at", .null), ("stale", .boolean(false)), ("comment", .null)]))
                }
                return .array(rows)
            }
        },
        "ENDORSE": { router, args, session throws(CommandError) in
            try args.require(2)
            let o = try args.options(after: 2, values: ["COMMENT"])
            return router.apply(session, args[0], .endorse(member: args[1], comment: o["COMMENT"])) { _, a in .integer(Int64(a.item.endorsements.count)) }
        },
        "ENDORSE.WITHDRAW": { router, args, session throws(CommandError) in
            try args.require(2, atMost: 2)
            return router.apply(session, args[0], .withdrawEndorsement(member: args[1])) { _, a in .integer(Int64(a.item.endorsements.count)) }
        },
        "ENDORSE.LIST": { router, args, session throws(CommandError) in
            try args.require(1, atMost: 1)
            let id = args[0]
            return router.later(session) { actor, _ in
                let item = try await router.services.store.item(id, actor: actor)
                let names = Dictionary(try await router.services.store.members().map { ($0.slug, $0.name) }, uniquingKeysWith: { a, _ in a })
                return .array(item.endorsements.map { e in
                    Reply.map([("member", .bulk(e.member)), ("name", Reply.text(names[e.member])), ("by", .bulk(e.by)),
                               ("at", Reply.time(e.at)), ("comment", Reply.text(e.comment))])
                })
            }
        },
        "MILESTONE.ADD": { router, args, session throws(CommandError) in
            try args.require(2)
            let o = try args.options(after: 2, values: ["DUE"])
            return router.apply(session, args[0], .addMilestone(title: args[1], due: try o.date("DUE"))) { _, a in
                .integer(Int64(a.item.milestones.map(\.number).max() ?? 0))
            }
        },
        "MILESTONE.DONE": { router, args, session throws(CommandError) in
            try args.require(2, atMost: 2)
            return router.apply(session, args[0], .completeMilestone(try args.int(1, "number"))) { _, a in
                Reply.map([("done", .integer(Int64(a.item.milestones.filter { $0.doneAt != nil }.count))),
                           ("total", .integer(Int64(a.item.milestones.count)))])
            }
        },
        "MILESTONE.LIST": { router, args, session throws(CommandError) in
            try args.require(1, atMost: 1)
            let id = args[0]
            return router.later(session) { actor, _ in
                .array(try await router.services.store.item(id, actor: actor).milestones.map { m in
                    Reply.map([("number", .integer(Int64(m.number))), ("title", .bulk(m.title)), ("due", Reply.time(m.due)), ("done_at", Reply.time(m.doneAt))])
                })
            }
        },
    ]
}
