import DocketCore
import DocketStore
import DocketWire
import Foundation

extension CommandRouter {
    /// An item map with its definition's transitions.
    func itemReply(_ item: ItemSnapshot) async -> RESPValue {
        let definition = try? await services.store.definition(item.workflow, version: item.workflowVersion)
        return Reply.item(item, definition)
    }

    /// Applies a command and answers with the item map or the event map.
    func apply(_ session: SessionInfo, _ id: String, _ command: Command, ifVersion: Int? = nil, key: String? = nil,
               reply: @escaping @Sendable (CommandRouter, Store.Applied) async throws -> RESPValue) -> Outcome {
        later(session) { actor, now in
            let applied = try await services.store.apply(command, to: id, actor: actor, ifVersion: ifVersion, key: key, now: now)
            return try await reply(self, applied)
        }
    }

    static let itemCommands: [String: Handler] = [
        "ITEM.CREATE": { router, args, session throws(CommandError) in
            try args.require(2)
            var o: [String: String] = [:]
            var fields: [String: String] = [:]
            var i = 2
            while i < args.count {
                let key = args[i].uppercased()
                switch key {
                case "FIELD":
                    guard i + 2 < args.count else { throw .syntax("FIELD needs a name and a value") }
                    fields[args[i + 1]] = args[i + 2]
                    i += 3
                case "THEME", "GROUP", "KEY":
                    guard i + 1 < args.count else { throw .syntax("\(key) needs a value") }
                    o[key] = args[i + 1]
                    i += 2
                default:
                    throw .syntax("unexpected '\(args[i])' (options: THEME, GROUP, FIELD name value, KEY)")
                }
            }
            let new = NewItem(title: args[1], theme: o["THEME"], group: o["GROUP"], fields: fields)
            let workflow = args[0]
            let key = o["KEY"]
            return router.later(session) { actor, now in
                let created = try await router.services.store.create(workflow: workflow, new, actor: actor, key: key, now: now)
                return await router.itemReply(created.item)
            }
        },
        "ITEM.GET": { router, args, session throws(CommandError) in
            try args.require(1, atMost: 1)
            let id = args[0]
            let pooled = router.later(session) { actor, _ in await router.itemReply(try await router.services.store.item(id, actor: actor)) }
            guard let actor = session.actor, case let .later(fallback) = pooled else { return pooled }
            let store = router.services.store
            return .onLoop(start: { loop, reply in
                store.itemOnLoop(id, actor: actor, on: loop) { read in
                    switch read {
                    case let .item(item, definition): reply(.success(.item(item, definition)))
                    case let .failed(error): reply(.failure(error))
                    }
                }
            }, fallback: fallback)
        },
        "ITEM.LIST": { router, args, session throws(CommandError) in
            let o = try args.options(after: 0, values: ["WORKFLOW", "STATE", "THEME", "GROUP", "WAITING", "LIMIT", "AFTER"], flags: ["OVERDUE"])
            var filter = Store.ItemFilter()
            filter.workflow = o["WORKFLOW"]
            filter.state = o["STATE"]
            filter.theme = o["THEME"]
            filter.group = o["GROUP"]
            filter.waiting = o["WAITING"]
            filter.overdue = o.flags.contains("OVERDUE")
            filter.after = o["AFTER"]
            filter.limit = try o.int("LIMIT") ?? 100
            guard (1...10_000).contains(filter.limit) else { throw .invalid("LIMIT must be between 1 and 10000") }
            let chosen = filter
            return router.later(session) { actor, now in
                var out: [RESPValue] = []
                for item in try await router.services.store.list(chosen, actor: actor, now: now) { out.append(await router.itemReply(item)) }
                return .array(out)
            }
        },
        "ITEM.SET": { router, args, session throws(CommandError) in
            try args.require(3)
            let o = try args.options(after: 3, values: ["IFVERSION"])
            return router.apply(session, args[0], .setField(name: args[1], value: args[2]), ifVersion: try o.int("IFVERSION")) { r, a in await r.itemReply(a.item) }
        },
        "ITEM.FIRE": { router, args, session throws(CommandError) in
            try args.require(2)
            let o = try args.options(after: 2, values: ["COMMENT", "IFVERSION", "KEY"])
            return router.apply(session, args[0], .fire(transition: args[1], comment: o["COMMENT"]), ifVersion: try o.int("IFVERSION"), key: o["KEY"]) { _, a in
                Reply.event(a.event)
            }
        },
        "ITEM.EXPLAIN": { router, args, session throws(CommandError) in
            try args.require(2)
            let o = try args.options(after: 2, values: ["AS"])
            let (id, transition, asUser) = (args[0], args[1], o["AS"])
            if asUser != nil, asUser != session.actor?.handle {
                try router.requireRole(session, [.admin, .secretariat], "ITEM.EXPLAIN ... AS another user")
            }
            return router.later(session) { actor, now in
                var subject = actor
                if let asUser { subject = try await router.services.store.actor(asUser) }
                _ = try await router.services.store.item(id, actor: actor)
                let decision = try await router.services.store.explain(.fire(transition: transition), on: id, actor: subject, now: now)
                return Reply.checks(transition, decision)
            }
        },
        "ITEM.HISTORY": { router, args, session throws(CommandError) in
            try args.require(1, atMost: 1)
            let id = args[0]
            return router.later(session) { actor, _ in .array(try await router.services.store.history(id, actor: actor).map(Reply.event)) }
        },
        "ITEM.REVISE": { router, args, session throws(CommandError) in
            try args.require(2)
            let o = try args.options(after: 2, values: ["NOTE"])
            return router.apply(session, args[0], .revise(text: args[1], note: o["NOTE"])) { _, a in
                Reply.map([("item", .bulk(a.item.id)), ("revision", .integer(Int64(a.item.revisions))),
                           ("sha256", .bulk(a.event.data["sha256"] ?? ""))])
            }
        },
        "ITEM.TEXT": { router, args, session throws(CommandError) in
            try args.require(1)
            let o = try args.options(after: 1, values: ["REV"])
            let (id, rev) = (args[0], try o.int("REV"))
            return router.later(session) { actor, _ in .bulk(try await router.services.store.revisionText(id, number: rev, actor: actor).text) }
        },
        "ITEM.DIFF": { router, args, session throws(CommandError) in
            try args.require(3, atMost: 3)
            let (id, a, b) = (args[0], try args.int(1, "rev_a"), try args.int(2, "rev_b"))
            return router.later(session) { actor, _ in
                let old = try await router.services.store.revisionText(id, number: a, actor: actor)
                let new = try await router.services.store.revisionText(id, number: b, actor: actor)
                return .bulk(TextDiff.unified(old.text, new.text, oldLabel: "\(id) revision \(a)", newLabel: "\(id) revision \(b)"))
            }
        },
        "ITEM.COMMENT": { router, args, session throws(CommandError) in
            try args.require(2, atMost: 2)
            return router.apply(session, args[0], .comment(args[1])) { _, a in Reply.event(a.event) }
        },
    ]
}
