import DocketCore
import DocketStore
import DocketWire
import Foundation

extension CommandRouter {
    func admin(_ session: SessionInfo, _ what: String, _ body: @escaping @Sendable (Store) async throws -> RESPValue) throws(CommandError) -> Outcome {
        try requireRole(session, [.admin], what)
        let store = services.store
        return later(session) { _, _ in try await body(store) }
    }

    static func role(_ text: String) throws(CommandError) -> Role {
        guard let role = Role(rawValue: text.lowercased()), Role.globalRoles.contains(role) || Role.groupRoles.contains(role) else {
            throw .invalid("unknown role '\(text)' (admin, secretariat; with GROUP: chair, drafter, reviewer)")
        }
        return role
    }

    static let directoryCommands: [String: Handler] = [
        "MEMBER.ADD": { router, args, session throws(CommandError) in
            try args.require(2)
            let o = try args.options(after: 2, values: ["KIND", "COUNTRY", "SECTION"])
            let m = Store.MemberRecord(slug: args[0], name: args[1], kind: o["KIND"]?.lowercased() ?? "city", country: o["COUNTRY"], section: o["SECTION"])
            return try router.admin(session, "MEMBER.ADD") { store in try await store.addMember(m); return Reply.ok() }
        },
        "MEMBER.LIST": { router, args, session throws(CommandError) in
            try args.require(0, atMost: 0)
            return router.later(session) { _, _ in
                .array(try await router.services.store.members().map { m in
                    Reply.map([("slug", .bulk(m.slug)), ("name", .bulk(m.name)), ("kind", .bulk(m.kind)),
                               ("country", Reply.text(m.country)), ("section", Reply.text(m.section))])
                })
            }
        },
        "USER.ADD": { router, args, session throws(CommandError) in
            try args.require(2)
            let o = try args.options(after: 2, values: ["MEMBER"], repeating: ["ROLE"])
            var parsed: [Role] = []
            for r in o.repeated["ROLE"] ?? [] { parsed.append(try role(r)) }
            let (handle, name, member, roles) = (args[0], args[1], o["MEMBER"], parsed)
            return try router.admin(session, "USER.ADD") { store in
                try await store.addUser(handle: handle, name: name, member: member, roles: roles)
                return Reply.ok()
            }
        },
        "USER.LIST": { router, args, session throws(CommandError) in
            try args.require(0, atMost: 0)
            return router.later(session) { _, _ in
                .array(try await router.services.store.users().map { u in
                    Reply.map([("handle", .bulk(u.handle)), ("name", .bulk(u.name)), ("member", Reply.text(u.member)),
                               ("roles", .array(u.roles.map { .bulk($0) })), ("groups", .array(u.groupRoles.map { .bulk($0) }))])
                })
            }
        },
        "USER.GRANT": { router, args, session throws(CommandError) in try router.changeRole(args, session, grant: true) },
        "USER.REVOKE": { router, args, session throws(CommandError) in try router.changeRole(args, session, grant: false) },
        "GROUP.ADD": { router, args, session throws(CommandError) in
            try args.require(2)
            let o = try args.options(after: 2, values: [], repeating: ["THEME"])
            let (slug, name, themes) = (args[0], args[1], o.repeated["THEME"] ?? [])
            return try router.admin(session, "GROUP.ADD") { store in try await store.addGroup(slug: slug, name: name, themes: themes); return Reply.ok() }
        },
        "GROUP.LIST": { router, args, session throws(CommandError) in
            try args.require(0, atMost: 0)
            return router.later(session) { _, _ in
                .array(try await router.services.store.groups().map { g in
                    Reply.map([("slug", .bulk(g.slug)), ("name", .bulk(g.name)), ("themes", .array(g.themes.map { .bulk($0) }))])
                })
            }
        },
        "THEME.ADD": { router, args, session throws(CommandError) in
            try args.require(2, atMost: 2)
            let (slug, name) = (args[0], args[1])
            return try router.admin(session, "THEME.ADD") { store in try await store.addTheme(slug: slug, name: name); return Reply.ok() }
        },
        "THEME.LIST": { router, args, session throws(CommandError) in
            try args.require(0, atMost: 0)
            return router.later(session) { _, _ in
                .array(try await router.services.store.themes().map { Reply.map([("slug", .bulk($0.slug)), ("name", .bulk($0.name))]) })
            }
        },
        "TOKEN.CREATE": { router, args, session throws(CommandError) in
            try args.require(1, atMost: 1)
            let handle = args[0]
            return try router.admin(session, "TOKEN.CREATE") { store in .bulk(try await store.createToken(for: handle)) }
        },
        "TOKEN.REVOKE": { router, args, session throws(CommandError) in
            try args.require(1, atMost: 1)
            let handle = args[0]
            return try router.admin(session, "TOKEN.REVOKE") { store in .integer(Int64(try await store.revokeTokens(of: handle))) }
        },
    ]

    func changeRole(_ args: Arguments, _ session: SessionInfo, grant: Bool) throws(CommandError) -> Outcome {
        try args.require(2)
        let o = try args.options(after: 2, values: ["GROUP"])
        let (handle, role, group) = (args[0], try Self.role(args[1]), o["GROUP"])
        return try admin(session, grant ? "USER.GRANT" : "USER.REVOKE") { store in
            if grant { try await store.grant(handle, role: role, group: group) } else { try await store.revoke(handle, role: role, group: group) }
            return Reply.ok()
        }
    }
}
