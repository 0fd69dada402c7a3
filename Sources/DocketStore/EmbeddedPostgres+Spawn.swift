import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin wrapper over `posix_spawn` / `waitpid` used by ``ProcessRunner``.
enum POSIXSpawn {
    #if canImport(Darwin)
    typealias FileActions = posix_spawn_file_actions_t?
    typealias Attributes = posix_spawnattr_t?
    #else
    typealias FileActions = posix_spawn_file_actions_t
    typealias Attributes = posix_spawnattr_t
    #endif

    /// A launch failure, phrased like a failed command.
    static func error(_ code: Int32, _ command: [String]) -> ProcessRunnerError {
        ProcessRunnerError(
            command: command, exitCode: 127, stdout: "",
            stderr: "could not launch \(command.first ?? ""): \(String(cString: strerror(code)))")
    }

    /// Spawns `command` with stdin from /dev/null, stdout/stderr on the given descriptors,
    /// all other descriptors closed and signals reset to their defaults.
    static func spawn(
        _ command: [String], environment: [String: String], currentDirectory: String?,
        stdout: Int32, stderr: Int32
    ) throws -> pid_t {
        var actions = FileActions()
        guard posix_spawn_file_actions_init(&actions) == 0 else { throw error(errno, command) }
        defer { posix_spawn_file_actions_destroy(&actions) }
        var status = posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        if status == 0 { status = posix_spawn_file_actions_adddup2(&actions, stdout, 1) }
        if status == 0 { status = posix_spawn_file_actions_adddup2(&actions, stderr, 2) }
        #if canImport(Darwin)
        if status == 0, let currentDirectory {
            status = posix_spawn_file_actions_addchdir_np(&actions, currentDirectory)
        }
        #else
        if status == 0 { status = closeInheritedDescriptors(&actions) }
        var command = command
        if status == 0, let currentDirectory {
            if let addchdir = GlibcExtensions.addchdir {
                status = addchdir(&actions, currentDirectory)
            } else {
                command = ["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", currentDirectory] + command
            }
        }
        #endif
        guard status == 0 else { throw error(status, command) }

        var attributes = Attributes()
        guard posix_spawnattr_init(&attributes) == 0 else { throw error(errno, command) }
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        sigdelset(&allSignals, SIGKILL)
        sigdelset(&allSignals, SIGSTOP)
        var flags = Int32(POSIX_SPAWN_SETSIGMASK) | Int32(POSIX_SPAWN_SETSIGDEF)
        #if canImport(Darwin)
        flags |= Int32(POSIX_SPAWN_CLOEXEC_DEFAULT)
        #endif
        status = posix_spawnattr_setsigmask(&attributes, &noSignals)
        if status == 0 { status = posix_spawnattr_setsigdefault(&attributes, &allSignals) }
        if status == 0 { status = posix_spawnattr_setflags(&attributes, Int16(flags)) }
        guard status == 0 else { throw error(status, command) }

        let argv = command.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid = pid_t()
        status = posix_spawn(&pid, command[0], &actions, &attributes, argv, envp)
        guard status == 0 else { throw error(status, command) }
        return pid
    }

    /// Blocks the calling (non-cooperative) thread until `pid` exits; returns its exit
    /// status, `128 + signal` if it was killed, or -1 if it could not be reaped.
    static func wait(_ pid: pid_t) -> Int32 {
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) == -1 {
            if errno != EINTR { return -1 }
        }
        let signal = raw & 0x7f
        return signal == 0 ? (raw >> 8) & 0xff : 128 + signal
    }

    #if !canImport(Darwin)
    /// Closes every descriptor above 2 in the child: `addclosefrom_np` where glibc has it
    /// (2.34+), else one `addclose` per descriptor listed in `/proc/self/fd`.
    private static func closeInheritedDescriptors(_ actions: inout FileActions) -> Int32 {
        if let closefrom = GlibcExtensions.addclosefrom { return closefrom(&actions, 3) }
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for fd in open.compactMap(Int32.init) where fd > 2 {
            let flags = fcntl(fd, F_GETFD)
            if flags >= 0 && flags & FD_CLOEXEC == 0 { _ = posix_spawn_file_actions_addclose(&actions, fd) }
        }
        return 0
    }
    #endif
}

#if !canImport(Darwin)
/// glibc's `_np` spawn extensions, which Swift's Glibc module does not import; looked up
/// at run time so older glibc versions still work (with fallbacks).
private enum GlibcExtensions {
    typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32

    static let addclosefrom: AddCloseFrom? = symbol("posix_spawn_file_actions_addclosefrom_np")
    static let addchdir: AddChdir? = symbol("posix_spawn_file_actions_addchdir_np")

    private static func symbol<T>(_ name: String) -> T? {
        guard let pointer = dlsym(nil, name) else { return nil }
        return unsafeBitCast(pointer, to: T.self)
    }
}
#endif
