import DocketCore
import Foundation
import PostgresNIO

extension Store {
    public struct WorkflowSummary: Sendable, Hashable {
        public var name: String
        public var version: Int
        public var title: String
        public var prefix: String
        public var states: [String]
        public var items: Int
    }

    public struct LoadedWorkflow: Sendable, Hashable {
        public var name: String
        public var version: Int
        /// False when the same source was already the latest version.
        public var changed: Bool
        public var warnings: [Diagnostic]
    }

    /// Loads a definition. A source identical to the latest stored version changes nothing; a
    /// different one becomes a new version (the file's `version`, or one past the latest if that
    /// is not higher). Items already running keep the version they started on.
    public func loadWorkflow(yaml: String, file: String? = nil) async throws -> LoadedWorkflow {
        let (parsed, warnings): (WorkflowDefinition, [Diagnostic])
        do {
            (parsed, warnings) = try WorkflowDefinition.load(yaml: yaml, file: file)
        } catch {
            throw StoreError.invalid("workflow definition refused:\n" + error.description)
        }
        let checksum = SHA256Hex.digest(yaml)
        let result = try await transaction { connection in
            // Serialise loads of one workflow across processes.
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\(parsed.name)))", logger: self.queryLogger)
            let rows = try await connection.query(
                "SELECT version, checksum, prefix FROM workflows WHERE name = \(parsed.name) ORDER BY version DESC LIMIT 1",
                logger: self.queryLogger)
            var latest: (Int, String, String)?
            for try await row in rows.decode((Int, String, String).self) { latest = row }
            if let latest, latest.1 == checksum {
                return LoadedWorkflow(name: parsed.name, version: latest.0, changed: false, warnings: warnings)
            }
            let clash = try await connection.query(
                "SELECT name FROM workflows WHERE prefix = \(parsed.prefix) AND name <> \(parsed.name) LIMIT 1", logger: self.queryLogger)
            for try await other in clash.decode(String.self) {
                throw StoreError.invalid("prefix \(parsed.prefix) is already used by workflow \(other)")
            }
            let version = max(parsed.version, (latest?.0 ?? 0) + 1)
            try await connection.query("""
                INSERT INTO workflows (name, version, title, prefix, source, checksum)
                VALUES (\(parsed.name), \(version), \(parsed.title), \(parsed.prefix), \(yaml), \(checksum))
                """, logger: self.queryLogger)
            return LoadedWorkflow(name: parsed.name, version: version, changed: true, warnings: warnings)
        }
        if result.changed { logger.info("workflow loaded", metadata: ["docket.workflow": "\(result.name)", "docket.version": "\(result.version)"]) }
        return result
    }

    /// Loads every `*.yaml` in `directory`, in name order.
    @discardableResult
    public func loadWorkflows(directory: URL) async throws -> [LoadedWorkflow] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        var loaded: [LoadedWorkflow] = []
        for name in names.sorted() where name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
            let url = directory.appendingPathComponent(name)
            guard let yaml = try? String(contentsOf: url, encoding: .utf8) else {
                throw StoreError.invalid("cannot read \(url.path)")
            }
            loaded.append(try await loadWorkflow(yaml: yaml, file: url.path))
        }
        return loaded
    }

    /// The definition of `name` at `version`, or the latest version when nil.
    public func definition(_ name: String, version: Int? = nil) async throws -> WorkflowDefinition {
        if let version, let cached = cachedDefinition(name, version: version) { return cached }
        let (source, stored) = try await read { connection in
            let rows = if let version {
                try await connection.query("SELECT source, version FROM workflows WHERE name = \(name) AND version = \(version)", logger: self.queryLogger)
            } else {
                try await connection.query("SELECT source, version FROM workflows WHERE name = \(name) ORDER BY version DESC LIMIT 1", logger: self.queryLogger)
            }
            for try await row in rows.decode((String, Int).self) { return row }
            throw StoreError.notFound("workflow \(name)\(version.map { " version \($0)" } ?? "")")
        }
        if let cached = cachedDefinition(name, version: stored) { return cached }
        guard var definition = try? WorkflowDefinition.load(yaml: source).0 else {
            throw StoreError.invalid("stored workflow \(name) version \(stored) no longer parses")
        }
        definition.version = stored
        definitions.withLockedValue { $0[DefinitionKey(name: name, version: stored)] = definition }
        return definition
    }

    /// The stored YAML source and checksum of a version.
    public func workflowSource(_ name: String, version: Int? = nil) async throws -> (version: Int, title: String, source: String, checksum: String) {
        try await read { connection in
            let rows = try await connection.query("""
                SELECT version, title, source, checksum FROM workflows
                WHERE name = \(name) AND (\(version)::int IS NULL OR version = \(version))
                ORDER BY version DESC LIMIT 1
                """, logger: self.queryLogger)
            for try await row in rows.decode((Int, String, String, String).self) { return row }
            throw StoreError.notFound("workflow \(name)\(version.map { " version \($0)" } ?? "")")
        }
    }

    /// The latest version of every workflow, with how many items use any version of it.
    public func workflows() async throws -> [WorkflowSummary] {
        let rows: [(String, Int, String, String, String, Int)] = try await read { connection in
            let result = try await connection.query("""
                SELECT DISTINCT ON (w.name) w.name, w.version, w.title, w.prefix, w.source,
                       (SELECT count(*)::int FROM items i WHERE i.workflow = w.name)
                FROM workflows w ORDER BY w.name, w.version DESC
                """, logger: self.queryLogger)
            var out: [(String, Int, String, String, String, Int)] = []
            for try await row in result.decode((String, Int, String, String, String, Int).self) { out.append(row) }
            return out
        }
        return rows.map { name, version, title, prefix, source, items in
            let states = (try? WorkflowDefinition.load(yaml: source).0.states.map(\.name)) ?? []
            return WorkflowSummary(name: name, version: version, title: title, prefix: prefix, states: states, items: items)
        }
    }
}
