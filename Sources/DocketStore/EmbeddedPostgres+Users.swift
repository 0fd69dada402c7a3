import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The unprivileged account that owns and runs the cluster when we are root.
struct ClusterUser: Sendable, Equatable {
    let name: String
    let uid: uid_t
    let gid: gid_t

    /// Looks up `name` in the password database (thread-safe `getpwnam_r`).
    static func named(_ name: String) -> ClusterUser? {
        lookup { pwd, buffer, size, result in getpwnam_r(name, &pwd, buffer, size, &result) }
    }

    /// Looks up `uid` in the password database (thread-safe `getpwuid_r`).
    static func withID(_ uid: uid_t) -> ClusterUser? {
        lookup { pwd, buffer, size, result in getpwuid_r(uid, &pwd, buffer, size, &result) }
    }

    /// The owner of `path` if that is not root (e.g. an existing `PGDATA`).
    static func owning(_ path: String) -> ClusterUser? {
        guard let info = LauncherFileInfo(path), info.uid != 0 else { return nil }
        return withID(info.uid)
    }

    /// `postgres` if that user exists, else `nobody`.
    static func defaultUnprivileged() throws -> ClusterUser {
        if let user = named("postgres") ?? named("nobody") { return user }
        throw EmbeddedPostgresError.noUnprivilegedUser
    }

    private static func lookup(
        _ call: (inout passwd, UnsafeMutablePointer<CChar>, Int, inout UnsafeMutablePointer<passwd>?) -> Int32
    ) -> ClusterUser? {
        var buffer = [CChar](repeating: 0, count: 16_384)
        return buffer.withUnsafeMutableBufferPointer { storage -> ClusterUser? in
            var pwd = passwd()
            var result: UnsafeMutablePointer<passwd>?
            guard call(&pwd, storage.baseAddress!, storage.count, &result) == 0, result != nil,
                  let namePointer = pwd.pw_name else { return nil }
            return ClusterUser(name: String(cString: namePointer), uid: pwd.pw_uid, gid: pwd.pw_gid)
        }
    }
}

/// Runs PostgreSQL server programs as the cluster user: directly when we are not root,
/// otherwise through `runuser -u USER --` (or `su USER -s /bin/sh -c` if runuser is missing).
struct ClusterCommandRunner: Sendable {
    /// `nil` when we are not root and run everything as ourselves.
    let user: ClusterUser?
    let environment: [String: String]
    private let runuser: String?
    private let su: String?

    /// - Parameter useSu: skip `runuser` and use the `su` fallback (for tests).
    init(user: ClusterUser?, environment: [String: String], useSu: Bool = false) throws {
        self.user = user
        self.environment = environment
        let dirs = PostgresBinaries.searchPath(environment) + ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        runuser = user == nil || useSu ? nil : PostgresBinaries.findExecutable("runuser", in: dirs)
        su = user == nil ? nil : PostgresBinaries.findExecutable("su", in: dirs)
        if user != nil && runuser == nil && su == nil { throw EmbeddedPostgresError.noPrivilegeDropTool }
    }

    /// Runs `executable` with `arguments` as the cluster user, in `/` so an unreadable
    /// working directory (such as `/root`) cannot trip PostgreSQL up.
    @discardableResult
    func run(_ executable: String, _ arguments: [String], checkExitCode: Bool = true) async throws -> ProcessOutput {
        guard let user else {
            return try await ProcessRunner.run(
                executable, arguments, environment: environment, currentDirectory: "/", checkExitCode: checkExitCode)
        }
        if let runuser {
            return try await ProcessRunner.run(
                runuser, ["-u", user.name, "--", executable] + arguments,
                environment: environment, currentDirectory: "/", checkExitCode: checkExitCode)
        }
        let script = ProcessRunner.render([executable] + arguments)
        return try await ProcessRunner.run(
            su!, [user.name, "-s", "/bin/sh", "-c", script],
            environment: environment, currentDirectory: "/", checkExitCode: checkExitCode)
    }

    /// Whether the cluster user can reach `directory`, i.e. search every component of it.
    /// Always `true` when we are not root.
    func canTraverse(_ directory: String) async throws -> Bool {
        guard user != nil else { return true }
        let dirs = PostgresBinaries.searchPath(environment) + ["/usr/bin", "/bin"]
        guard let test = PostgresBinaries.findExecutable("test", in: dirs) else {
            return LauncherFileInfo.modeAllowsTraversal(of: directory, by: user!)
        }
        return try await run(test, ["-x", directory], checkExitCode: false).exitCode == 0
    }
}

/// `lstat(2)` facts about a path, and the few filesystem operations the launcher needs.
struct LauncherFileInfo {
    let uid: uid_t
    let mode: mode_t
    let isDirectory: Bool
    let isSymlink: Bool

    init?(_ path: String) {
        var st = stat()
        guard lstat(path, &st) == 0 else { return nil }
        uid = st.st_uid
        mode = st.st_mode & 0o7777
        isDirectory = (st.st_mode & S_IFMT) == S_IFDIR
        isSymlink = (st.st_mode & S_IFMT) == S_IFLNK
    }

    /// Creates `path` (mode 0700) if missing, then makes sure it is a real directory
    /// owned by `owner` (or by us) with mode 0700. Refuses symlinks and foreign owners
    /// unless `adopt` allows taking over a directory owned by root.
    static func ensurePrivateDirectory(_ path: String, owner: ClusterUser?, adopt: Bool) throws {
        if LauncherFileInfo(path) == nil {
            guard mkdir(path, 0o700) == 0 || errno == EEXIST else {
                throw EmbeddedPostgresError.unsafeDirectory(path: path, reason: "mkdir failed: \(String(cString: strerror(errno)))")
            }
            guard let created = LauncherFileInfo(path) else {
                throw EmbeddedPostgresError.unsafeDirectory(path: path, reason: "it vanished after mkdir")
            }
            try fix(path, owner: owner, current: created, adopt: true)
            return
        }
        try fix(path, owner: owner, current: LauncherFileInfo(path)!, adopt: adopt)
    }

    private static func fix(_ path: String, owner: ClusterUser?, current: LauncherFileInfo, adopt: Bool) throws {
        guard !current.isSymlink, current.isDirectory else {
            throw EmbeddedPostgresError.unsafeDirectory(path: path, reason: "it is not a directory (or is a symlink)")
        }
        let wantUID = owner?.uid ?? geteuid()
        if current.uid != wantUID {
            guard adopt && current.uid == geteuid() else {
                throw EmbeddedPostgresError.unsafeDirectory(path: path, reason: "it is owned by uid \(current.uid), expected uid \(wantUID)")
            }
        }
        if let owner {
            guard chown(path, owner.uid, owner.gid) == 0 else {
                throw EmbeddedPostgresError.unsafeDirectory(path: path, reason: "chown failed: \(String(cString: strerror(errno)))")
            }
        }
        guard chmod(path, 0o700) == 0 else {
            throw EmbeddedPostgresError.unsafeDirectory(path: path, reason: "chmod failed: \(String(cString: strerror(errno)))")
        }
    }

    /// Writes `contents` to `path` atomically, then gives it to `owner` with `mode`.
    static func write(_ contents: String, to path: String, owner: ClusterUser?, mode: Int = 0o600) throws {
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        if let owner { _ = chown(path, owner.uid, owner.gid) }
        _ = chmod(path, mode_t(mode))
    }

    /// Fallback traversal check from mode bits (ignores ACLs and supplementary groups).
    static func modeAllowsTraversal(of directory: String, by user: ClusterUser) -> Bool {
        var path = URL(fileURLWithPath: directory).standardizedFileURL.path
        while true {
            var st = stat()
            guard stat(path, &st) == 0 else { return false }
            let mode = st.st_mode
            let ok = st.st_uid == user.uid ? mode & S_IXUSR != 0
                : st.st_gid == user.gid ? mode & S_IXGRP != 0
                : mode & S_IXOTH != 0
            if !ok { return false }
            if path == "/" { return true }
            path = (path as NSString).deletingLastPathComponent
        }
    }

    /// The longest Unix socket path the platform accepts (without the trailing NUL).
    static var maxSocketPathLength: Int {
        MemoryLayout.size(ofValue: sockaddr_un().sun_path) - 1
    }
}
