import DocketCore
import DocketStore
import DocketWire

extension CommandRouter {
    static let migrateCommands: [String: Handler] = [
        "WORKFLOW.MIGRATE": { router, args, session throws(CommandError) in
            try args.require(2)
            let o = try args.options(after: 2, values: [], flags: ["DRYRUN"])
            try router.requireRole(session, [.admin], "WORKFLOW.MIGRATE")
            let (name, version, dryRun) = (args[0], try args.int(1, "to_version"), o.flags.contains("DRYRUN"))
            return router.later(session) { actor, now in
                .array(try await router.services.store.migrate(workflow: name, to: version, dryRun: dryRun, actor: actor, now: now).map { p in
                    Reply.map([("item", .bulk(p.item)), ("from_state", .bulk(p.fromState)), ("to_state", Reply.text(p.toState)),
                               ("ok", .boolean(p.ok)), ("problem", Reply.text(p.problem))])
                })
            }
        },
    ]
}
