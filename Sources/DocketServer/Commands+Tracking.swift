import DocketCore
import DocketStore
import DocketWire
import Foundation

extension CommandRouter {
    static let trackingCommands: [String: Handler] = [
        "REPORT.STATUS": { router, args, session throws(CommandError) in
            let o = try args.options(after: 0, values: ["WORKFLOW", "THEME", "ASOF"])
            let (workflow, theme, asOf) = (o["WORKFLOW"], o["THEME"], try o.date("ASOF"))
            return router.later(session) { actor, now in
                .array(try await router.services.store.status(workflow: workflow, theme: theme, asOf: asOf, actor: actor, now: now).map { r in
                    Reply.map([("workflow", .bulk(r.workflow)), ("state", .bulk(r.state)), ("theme", Reply.text(r.theme)),
                               ("items", .integer(Int64(r.items))), ("overdue", .integer(Int64(r.overdue)))])
                })
            }
        },
        "REPORT.WAITING": { router, args, session throws(CommandError) in
            let o = try args.options(after: 0, values: ["USER", "LIMIT"])
            let user = o["USER"]
            let limit = try o.int("LIMIT") ?? 100
            guard (1...10_000).contains(limit) else { throw .invalid("LIMIT must be between 1 and 10000") }
            return router.later(session) { actor, now in
                .array(try await router.services.store.waiting(user: user, limit: limit, actor: actor, now: now).map { w in
                    Reply.map([("item", .bulk(w.item)), ("state", .bulk(w.state)), ("waiting_on", .array(w.waitingOn.map { .bulk($0) })),
                               ("since", Reply.time(w.since)), ("due_at", Reply.time(w.dueAt))])
                })
            }
        },
        "REPORT.CYCLE": { router, args, session throws(CommandError) in
            let o = try args.options(after: 0, values: ["WORKFLOW", "SINCE"])
            let (workflow, since) = (o["WORKFLOW"], try o.date("SINCE"))
            return router.later(session) { actor, _ in
                // Times in states that hide their items are shown only to those who see every item.
                let seesAll = !actor.globalRoles.isDisjoint(with: [.admin, .secretariat])
                var rows: [Store.CycleRow] = []
                for c in try await router.services.store.cycle(workflow: workflow, since: since) {
                    let hidden = (try? await router.services.store.definition(c.workflow))?.state(c.state)?.visibleTo != nil
                    if seesAll || !hidden { rows.append(c) }
                }
                return .array(rows.map { c in
                    Reply.map([("workflow", .bulk(c.workflow)), ("state", .bulk(c.state)), ("entered", .integer(Int64(c.entered))),
                               ("median_s", c.medianSeconds.map { .double($0) } ?? .null), ("p90_s", c.p90Seconds.map { .double($0) } ?? .null)])
                })
            }
        },
        "EVENTS.READ": { router, args, session throws(CommandError) in
            let o = try args.options(after: 0, values: ["AFTER", "COUNT"])
            let after = Int64(try o.int("AFTER") ?? 0)
            let count = try o.int("COUNT") ?? 100
            guard (1...10_000).contains(count) else { throw .invalid("COUNT must be between 1 and 10000") }
            return router.later(session) { actor, _ in
                let store = router.services.store
                let events = try await store.readEvents(after: after, count: count)
                let items = try await store.snapshots(Array(Set(events.map(\.item))))
                var visible: [String: Bool] = [:]
                for (id, item) in items {
                    visible[id] = Engine.canSee(try? await store.definition(item.workflow, version: item.workflowVersion), item, actor: actor)
                }
                return .array(events.filter { visible[$0.item] == true }.map(Reply.event))
            }
        },
        "WATCH": { _, args, session throws(CommandError) in
            let o = try args.options(after: 0, values: ["WORKFLOW", "ITEM", "THEME"])
            let filter = WatchFilter(workflow: o["WORKFLOW"], item: o["ITEM"], theme: o["THEME"])
            return .reply(.array([.bulk("watch"), .bulk(filter.channel), .integer(1)]), [.watch(filter)])
        },
        "UNWATCH": { _, args, _ throws(CommandError) in
            try args.require(0, atMost: 0)
            return .reply(Reply.ok(), [.unwatch])
        },
        "AUDIT.VERIFY": { router, args, session throws(CommandError) in
            let o = try args.options(after: 0, values: ["ITEM"])
            try router.requireRole(session, [.admin, .secretariat], "AUDIT.VERIFY")
            let id = o["ITEM"]
            return router.later(session) { _, _ in
                let r = try await router.services.store.verify(item: id)
                return Reply.map([("items", .integer(Int64(r.items))), ("events", .integer(Int64(r.events))), ("ok", .boolean(r.ok)),
                                  ("first_bad", r.firstBad.map { .bulk("\($0.item) v\($0.version): \($0.reason)") } ?? .null)])
            }
        },
    ]
}
