import Foundation

/// What `docket login` stores: `$XDG_CONFIG_HOME/docket/config.json`, or
/// `~/.config/docket/config.json`, mode 0600 in a 0700 directory.
struct UserConfig: Codable, Sendable, Equatable {
    var server: String?
    var user: String?
    var token: String?
    var tls: Bool?
    var cacert: String?

    /// Where the file lives for this environment.
    static func path(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let xdg = environment["XDG_CONFIG_HOME"], !xdg.isEmpty, xdg.hasPrefix("/") {
            return "\(xdg)/docket/config.json"
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return "\(home)/.config/docket/config.json"
    }

    /// The stored configuration, nil when there is none.
    static func load(from path: String = path()) throws -> UserConfig? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        do {
            return try JSONDecoder().decode(UserConfig.self, from: data)
        } catch {
            throw CLIFailure(.invalid, "\(path) is not a valid docket configuration", hint: "run `docket login` to write it again, or remove it")
        }
    }

    /// Writes the file atomically with mode 0600 (its directory 0700).
    func save(to path: String = path()) throws {
        let directory = (path as NSString).deletingLastPathComponent
        let files = FileManager.default
        do {
            try files.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let data = try encoder.encode(self) + Data("\n".utf8)
            let temporary = "\(directory)/.config.json.\(ProcessInfo.processInfo.processIdentifier).tmp"
            guard files.createFile(atPath: temporary, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw CLIFailure(.failure, "cannot write \(temporary)", hint: "check the permissions of \(directory)")
            }
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: temporary))
            try handle.write(contentsOf: data)
            try handle.close()
            try files.setAttributes([.posixPermissions: 0o600], ofItemAtPath: temporary)
            guard rename(temporary, path) == 0 else {
                try? files.removeItem(atPath: temporary)
                throw CLIFailure(.failure, "cannot write \(path): \(String(cString: strerror(errno)))", hint: "check the permissions of \(directory)")
            }
        } catch let failure as CLIFailure {
            throw failure
        } catch {
            throw CLIFailure(.failure, "cannot write \(path): \(error.localizedDescription)", hint: "check the permissions of \(directory)")
        }
    }
}
