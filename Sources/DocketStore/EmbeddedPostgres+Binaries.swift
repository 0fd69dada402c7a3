import Foundation

/// The PostgreSQL programs the launcher needs, all taken from one `bin` directory.
struct PostgresBinaries: Sendable, Equatable {
    /// Programs that must all be present in the chosen directory.
    static let required = ["initdb", "pg_ctl", "postgres", "psql"]

    let directory: String
    var initdb: String { directory + "/initdb" }
    var pgCtl: String { directory + "/pg_ctl" }
    var postgres: String { directory + "/postgres" }
    var psql: String { directory + "/psql" }

    /// Finds the PostgreSQL `bin` directory.
    ///
    /// If `DOCKET_PG_BINDIR` is set, only that directory is considered. Otherwise, in
    /// order: the directory of `initdb` found on `PATH` (symlinks resolved, then as
    /// found), `pg_config --bindir`, and `/usr/lib/postgresql/*/bin`, highest version first.
    static func locate(environment: [String: String]) async throws -> PostgresBinaries {
        if let bindir = environment["DOCKET_PG_BINDIR"], !bindir.isEmpty {
            if let found = check(bindir) { return found }
            throw EmbeddedPostgresError.postgresNotFound(searched: ["DOCKET_PG_BINDIR=\(bindir)\(missingNote(bindir))"])
        }
        var searched: [String] = []

        let pathDirs = searchPath(environment)
        for dir in pathDirs {
            let initdb = dir + "/initdb"
            guard FileManager.default.isExecutableFile(atPath: initdb) else { continue }
            let real = (URL(fileURLWithPath: initdb).resolvingSymlinksInPath().path as NSString).deletingLastPathComponent
            for candidate in [real, dir] {
                if let found = check(candidate) { return found }
                searched.append("\(candidate)\(missingNote(candidate))")
            }
        }
        searched.insert("PATH", at: 0)

        if let pgConfig = findExecutable("pg_config", in: pathDirs),
           let output = try? await ProcessRunner.run(pgConfig, ["--bindir"], environment: environment) {
            let dir = output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            if !dir.isEmpty, let found = check(dir) { return found }
            searched.append("pg_config --bindir (\(dir)\(missingNote(dir)))")
        } else {
            searched.append("pg_config --bindir")
        }

        for dir in debianBinDirectories() {
            if let found = check(dir) { return found }
        }
        searched.append("/usr/lib/postgresql/*/bin")
        throw EmbeddedPostgresError.postgresNotFound(searched: searched)
    }

    /// Returns the binaries in `directory` if every required program is executable there.
    static func check(_ directory: String) -> PostgresBinaries? {
        let dir = directory.hasSuffix("/") && directory.count > 1 ? String(directory.dropLast()) : directory
        let allPresent = required.allSatisfy { FileManager.default.isExecutableFile(atPath: dir + "/" + $0) }
        return allPresent ? PostgresBinaries(directory: dir) : nil
    }

    /// `" (missing psql, …)"` for a directory that exists but lacks some programs, else `""`.
    private static func missingNote(_ directory: String) -> String {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDir), isDir.boolValue else { return "" }
        let missing = required.filter { !FileManager.default.isExecutableFile(atPath: directory + "/" + $0) }
        return missing.isEmpty ? "" : " (missing \(missing.joined(separator: " ")))"
    }

    /// `/usr/lib/postgresql/<version>/bin`, highest version first.
    static func debianBinDirectories(root: String = "/usr/lib/postgresql") -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        func version(_ name: String) -> [Int] { name.split(separator: ".").map { Int($0) ?? -1 } }
        return entries
            .filter { !version($0).contains(-1) }
            .sorted { version($0).lexicographicallyPrecedes(version($1)) }
            .reversed()
            .map { "\(root)/\($0)/bin" }
    }

    /// The entries of `PATH` in `environment` (absolute ones only).
    static func searchPath(_ environment: [String: String]) -> [String] {
        (environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin")
            .split(separator: ":").map(String.init).filter { $0.hasPrefix("/") }
    }

    /// The first executable called `name` in `directories`.
    static func findExecutable(_ name: String, in directories: [String]) -> String? {
        directories.lazy.map { $0 + "/" + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

extension EmbeddedPostgres {
    /// The absolute path of a PostgreSQL client program (`pg_dump`, `pg_restore`, `psql`):
    /// taken from the same `bin` directory the embedded cluster uses (`DOCKET_PG_BINDIR`,
    /// `PATH`, `pg_config --bindir`, `/usr/lib/postgresql/*/bin`, highest version first), so a
    /// dump of the embedded cluster is made by a `pg_dump` of its own version; else the first
    /// `name` on `PATH`.
    public static func clientProgram(_ name: String, environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> String {
        if let binaries = try? await PostgresBinaries.locate(environment: environment) {
            let path = binaries.directory + "/" + name
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        if let found = PostgresBinaries.findExecutable(name, in: PostgresBinaries.searchPath(environment)) { return found }
        for dir in PostgresBinaries.debianBinDirectories() where FileManager.default.isExecutableFile(atPath: dir + "/" + name) {
            return dir + "/" + name
        }
        throw EmbeddedPostgresError.postgresNotFound(searched: ["\(name) on PATH", "/usr/lib/postgresql/*/bin"])
    }
}
