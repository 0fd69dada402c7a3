import Crypto
import DocketCore
import Foundation
import PostgresNIO

extension Store {
    public struct MemberRecord: Sendable, Hashable {
        public var slug, name, kind: String
        public var country, section: String?
        public init(slug: String, name: String, kind: String = "city", country: String? = nil, section: String? = nil) {
            self.slug = slug
            self.name = name
            self.kind = kind
            self.country = country
            self.section = section
        }
    }

    public struct UserRecord: Sendable, Hashable {
        public var handle, name: String
        public var member: String?
        public var roles: [String]
        /// `group:role` pairs.
        public var groupRoles: [String]
    }

    public struct GroupRecord: Sendable, Hashable {
        public var slug, name: String
        public var themes: [String]
    }

    public func addMember(_ m: MemberRecord) async throws {
        try await transaction { c in
            _ = try await c.query("""
                INSERT INTO members (slug, name, kind, country, section) VALUES (\(m.slug), \(m.name), \(m.kind), \(m.country), \(m.section))
                """, logger: self.queryLogger)
        }
    }

    public func members() async throws -> [MemberRecord] {
        try await read { c in
            var out: [MemberRecord] = []
            let rows = try await c.query("SELECT slug, name, kind, country, section FROM members ORDER BY slug", logger: self.queryLogger)
            for try await (slug, name, kind, country, section) in rows.decode((String, String, String, String?, String?).self) {
                out.append(MemberRecord(slug: slug, name: name, kind: kind, country: country, section: section))
            }
            return out
        }
    }

    public func addUser(handle: String, name: String, member: String? = nil, roles: [Role] = []) async throws {
        let global = roles.filter { $0.kind == .global }.map(\.rawValue)
        if let bad = roles.first(where: { $0.kind != .global }) {
            throw StoreError.invalid("\(bad.rawValue) is a working-group role: grant it with a group")
        }
        try await transaction { c in
            if let member { try await self.requireMember(c, member) }
            try await c.query("INSERT INTO users (handle, name, member, roles) VALUES (\(handle), \(name), \(member), \(global))", logger: self.queryLogger)
        }
    }

    public func users() async throws -> [UserRecord] {
        try await read { c in
            var out: [UserRecord] = []
            let rows = try await c.query("""
                SELECT u.handle, u.name, u.member, u.roles,
                       coalesce((SELECT array_agg(g.group_slug || ':' || g.role ORDER BY g.group_slug, g.role) FROM group_roles g WHERE g.handle = u.handle), '{}')
                FROM users u ORDER BY u.handle
                """, logger: self.queryLogger)
            for try await (handle, name, member, roles, groupRoles) in rows.decode((String, String, String?, [String], [String]).self) {
                out.append(UserRecord(handle: handle, name: name, member: member, roles: roles, groupRoles: groupRoles))
            }
            return out
        }
    }

    public func addTheme(slug: String, name: String) async throws {
        try await transaction { c in _ = try await c.query("INSERT INTO themes (slug, name) VALUES (\(slug), \(name))", logger: self.queryLogger) }
    }

    public func themes() async throws -> [(slug: String, name: String)] {
        try await read { c in
            var out: [(String, String)] = []
            for try await row in try await c.query("SELECT slug, name FROM themes ORDER BY slug", logger: self.queryLogger).decode((String, String).self) { out.append(row) }
            return out
        }
    }

    public func addGroup(slug: String, name: String, themes: [String] = []) async throws {
        try await transaction { c in
            let rows = try await c.query("SELECT t FROM unnest(\(themes)::text[]) t WHERE NOT EXISTS (SELECT 1 FROM themes WHERE slug = t)", logger: self.queryLogger)
            for try await missing in rows.decode(String.self) { throw StoreError.notFound("theme \(missing)") }
            try await c.query("INSERT INTO groups (slug, name, themes) VALUES (\(slug), \(name), \(themes))", logger: self.queryLogger)
        }
    }

    public func groups() async throws -> [GroupRecord] {
        try await read { c in
            var out: [GroupRecord] = []
            for try await (slug, name, themes) in try await c.query("SELECT slug, name, themes FROM groups ORDER BY slug", logger: self.queryLogger).decode((String, String, [String]).self) {
                out.append(GroupRecord(slug: slug, name: name, themes: themes))
            }
            return out
        }
    }

    /// Grants a global role, or a working-group role when `group` is given.
    public func grant(_ handle: String, role: Role, group: String? = nil) async throws {
        try await changeRole(handle, role: role, group: group, grant: true)
    }

    public func revoke(_ handle: String, role: Role, group: String? = nil) async throws {
        try await changeRole(handle, role: role, group: group, grant: false)
    }

    /// The LISTEN/NOTIFY channel told of directory changes that can take rights away, so
    /// every instance re-checks open sessions at their next command.
    public static let directoryChannel = "docket_directory"

    func notifyDirectoryChange(_ c: PostgresConnection, _ handle: String) async throws {
        try await c.query("SELECT pg_notify(\(Self.directoryChannel), \(handle))", logger: queryLogger)
    }

    func changeRole(_ handle: String, role: Role, group: String?, grant: Bool) async throws {
        try await transaction { c in
            try await self.requireUsers(c, [handle])
            try await self.notifyDirectoryChange(c, handle)
            if let group {
                guard Role.groupRoles.contains(role) else {
                    throw StoreError.invalid("\(role.rawValue) is not a working-group role (chair, drafter, reviewer)")
                }
                let exists = try await c.query("SELECT 1 FROM groups WHERE slug = \(group)", logger: self.queryLogger)
                var found = false
                for try await _ in exists { found = true }
                if !found { throw StoreError.notFound("group \(group)") }
                if grant {
                    try await c.query("INSERT INTO group_roles (handle, group_slug, role) VALUES (\(handle), \(group), \(role.rawValue)) ON CONFLICT DO NOTHING", logger: self.queryLogger)
                } else {
                    try await c.query("DELETE FROM group_roles WHERE handle = \(handle) AND group_slug = \(group) AND role = \(role.rawValue)", logger: self.queryLogger)
                }
            } else {
                guard Role.globalRoles.contains(role) else {
                    throw StoreError.invalid("\(role.rawValue) is a working-group role: name the group with GROUP")
                }
                let sql: PostgresQuery = grant
                    ? "UPDATE users SET roles = array(SELECT DISTINCT unnest(roles || \(role.rawValue)::text) ORDER BY 1) WHERE handle = \(handle)"
                    : "UPDATE users SET roles = array_remove(roles, \(role.rawValue)::text) WHERE handle = \(handle)"
                try await c.query(sql, logger: self.queryLogger)
            }
        }
    }

    /// The directory's view of a user: what the engine checks roles against.
    public func actor(_ handle: String) async throws -> Actor {
        try await read { c in try await self.actor(c, handle) }
    }

    func actor(_ c: PostgresConnection, _ handle: String) async throws -> Actor {
        let rows = try await c.query("""
            SELECT u.member, u.roles,
                   coalesce((SELECT array_agg(g.group_slug || ':' || g.role) FROM group_roles g WHERE g.handle = u.handle), '{}')
            FROM users u WHERE u.handle = \(handle)
            """, logger: queryLogger)
        for try await (member, roles, pairs) in rows.decode((String?, [String], [String]).self) {
            var groupRoles: [String: Set<Role>] = [:]
            for pair in pairs {
                guard let colon = pair.lastIndex(of: ":"), let role = Role(rawValue: String(pair[pair.index(after: colon)...])) else { continue }
                groupRoles[String(pair[..<colon]), default: []].insert(role)
            }
            return Actor(handle: handle, member: member, globalRoles: Set(roles.compactMap(Role.init(rawValue:))), groupRoles: groupRoles)
        }
        throw StoreError.notFound("user \(handle)")
    }

    /// Creates a new token for `handle` and returns it; only its SHA-256 is stored.
    public func createToken(for handle: String) async throws -> String {
        var bytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for i in bytes.indices { bytes[i] = generator.next() }
        let token = "dkt_" + SHA256Hex.hex(bytes)
        try await transaction { c in
            try await self.requireUsers(c, [handle])
            try await c.query("INSERT INTO tokens (handle, hash) VALUES (\(handle), \(ByteBuffer(bytes: Self.tokenHash(token))))", logger: self.queryLogger)
        }
        return token
    }

    /// Revokes every active token of `handle`; returns how many.
    public func revokeTokens(of handle: String) async throws -> Int {
        try await transaction { c in
            try await self.requireUsers(c, [handle])
            try await self.notifyDirectoryChange(c, handle)
            let rows = try await c.query("UPDATE tokens SET revoked_at = now() WHERE handle = \(handle) AND revoked_at IS NULL RETURNING id", logger: self.queryLogger)
            var n = 0
            for try await _ in rows { n += 1 }
            return n
        }
    }

    /// The actor for `handle` when `token` is one of its active tokens, compared in constant time.
    public func authenticate(handle: String, token: String) async throws -> Actor? {
        let presented = Self.tokenHash(token)
        return try await read { c in
            let rows = try await c.query("SELECT hash FROM tokens WHERE handle = \(handle) AND revoked_at IS NULL", logger: self.queryLogger)
            var match = false
            for try await stored in rows.decode(ByteBuffer.self) {
                match = Self.constantTimeEqual(Array(stored.readableBytesView), presented) || match
            }
            return match ? try await self.actor(c, handle) : nil
        }
    }

    /// Whether `handle` still has `token` active (checked before each command on open connections).
    public func tokenIsActive(handle: String, token: String) async throws -> Bool {
        try await authenticate(handle: handle, token: token) != nil
    }

    static func tokenHash(_ token: String) -> [UInt8] { Array(SHA256.hash(data: Data(token.utf8))) }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in a.indices { diff |= a[i] ^ b[i] }
        return diff == 0
    }

    /// Creates the `admin` user with a first token if no admin exists yet; returns the token
    /// when it created one.
    public func bootstrapAdmin() async throws -> String? {
        let exists: Bool = try await read { c in
            for try await _ in try await c.query("SELECT 1 FROM users WHERE 'admin' = ANY (roles) LIMIT 1", logger: self.queryLogger) { return true }
            return false
        }
        if exists { return nil }
        do {
            try await addUser(handle: "admin", name: "Administrator", roles: [.admin])
        } catch StoreError.invalid(let message) where message.hasPrefix("already exists") {
            try await grant("admin", role: .admin)
        }
        return try await createToken(for: "admin")
    }
}
