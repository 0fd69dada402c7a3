import Foundation
import Yams

/// `docket serve`'s settings, each from the first of: its flag, its environment variable,
/// the config file (`--config` / `DOCKET_CONFIG`), its default. docs/operations.md has the
/// table; `docket serve --print-config` shows where each value came from.
struct ServeSettings {
    struct Setting {
        let key: String
        let environment: String
        let defaultValue: String?
        let help: String
    }

    enum Source: String { case flag, environment, file, `default` }

    static let all: [Setting] = [
        Setting(key: "listen", environment: "DOCKET_LISTEN", defaultValue: "127.0.0.1:7433", help: "admin protocol address (port 0: any free port)"),
        Setting(key: "database-url", environment: "DOCKET_DATABASE_URL", defaultValue: nil, help: "PostgreSQL URL; none: the embedded cluster"),
        Setting(key: "data-dir", environment: "DOCKET_DATA_DIR", defaultValue: ".docket", help: "embedded cluster and admin.token"),
        Setting(key: "workflows", environment: "DOCKET_WORKFLOWS", defaultValue: "Workflows", help: "directory of workflow definitions"),
        Setting(key: "tls-cert", environment: "DOCKET_TLS_CERT", defaultValue: nil, help: "PEM certificate chain (TLS only when set)"),
        Setting(key: "tls-key", environment: "DOCKET_TLS_KEY", defaultValue: nil, help: "PEM private key"),
        Setting(key: "idle-timeout", environment: "DOCKET_IDLE_TIMEOUT", defaultValue: "0", help: "seconds before idle connections close (0: never)"),
        Setting(key: "max-connections", environment: "DOCKET_MAX_CONNECTIONS", defaultValue: "10000", help: "most connections at once"),
        Setting(key: "db-timeout", environment: "DOCKET_DB_TIMEOUT", defaultValue: "10", help: "seconds before a command answers UNAVAILABLE"),
        Setting(key: "pool-size", environment: "DOCKET_POOL_SIZE", defaultValue: "20", help: "PostgreSQL connections for commands, split between the event loops"),
        Setting(key: "metrics-listen", environment: "DOCKET_METRICS_LISTEN", defaultValue: nil, help: "HTTP address for /metrics and /health/*"),
        Setting(key: "log-level", environment: "DOCKET_LOG_LEVEL", defaultValue: "info", help: "trace, debug, info, notice, warning, error, critical"),
        Setting(key: "log-format", environment: "DOCKET_LOG_FORMAT", defaultValue: "logfmt", help: "logfmt, json or text"),
    ]

    private(set) var values: [String: (value: String, source: Source)] = [:]

    /// Resolves every setting. `flags` holds the flags given on the command line.
    init(flags: [String: String], environment: [String: String], configFile: String?) throws {
        var file: [String: String] = [:]
        if let configFile { file = try Self.readConfigFile(configFile) }
        for setting in Self.all {
            if let v = flags[setting.key] {
                values[setting.key] = (v, .flag)
            } else if let v = environment[setting.environment], !v.isEmpty {
                values[setting.key] = (v, .environment)
            } else if let v = file[setting.key] {
                values[setting.key] = (v, .file)
            } else if let v = setting.defaultValue {
                values[setting.key] = (v, .default)
            }
        }
    }

    subscript(_ key: String) -> String? { values[key]?.value }

    /// A whole number setting, with an error that names where the bad value came from.
    func integer(_ key: String, atLeast minimum: Int = 0) throws -> Int {
        guard let (text, source) = values[key] else { return 0 }
        guard let n = Int(text), n >= minimum else {
            throw ConfigError("\(key) must be a whole number \(minimum > 0 ? "of at least \(minimum)" : "of 0 or more"), not '\(text)' (from \(describe(source, key)))")
        }
        return n
    }

    func describe(_ source: Source, _ key: String) -> String {
        switch source {
        case .flag: return "--\(key)"
        case .environment: return Self.all.first { $0.key == key }.map(\.environment) ?? key
        case .file: return "the config file"
        case .default: return "the default"
        }
    }

    /// The resolved table `--print-config` shows.
    var report: String {
        Self.all.map { s in
            let (value, source) = values[s.key].map { ($0.value, $0.source.rawValue) } ?? ("(unset)", "default")
            let shown = s.key == "database-url" ? Self.redactingPassword(value) : value
            func pad(_ text: String, _ width: Int) -> String { text + String(repeating: " ", count: max(1, width - text.count)) }
            return pad(s.key, 17) + pad(shown, 35) + source
        }.joined(separator: "\n")
    }

    static func redactingPassword(_ url: String) -> String {
        guard var parts = URLComponents(string: url), parts.password != nil else { return url }
        parts.password = "xxxxx"
        return parts.string ?? url
    }

    /// A config file is YAML: one `key: value` per setting, keys as the flags' long names.
    static func readConfigFile(_ path: String) throws -> [String: String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigError("cannot read the config file \(path)")
        }
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            let first = String(describing: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            throw ConfigError("\(path): not valid YAML: \(first)")
        }
        guard let node else { return [:] }
        guard let mapping = node.mapping else {
            throw ConfigError("\(path): expected `key: value` lines, e.g. `listen: 0.0.0.0:7433`")
        }
        let known = Set(all.map(\.key))
        var out: [String: String] = [:]
        for (key, value) in mapping {
            let line = key.mark.map { ":\($0.line)" } ?? ""
            guard let name = key.string, known.contains(name) else {
                throw ConfigError("\(path)\(line): unknown setting '\(key.string ?? "?")'; known: \(all.map(\.key).joined(separator: ", "))")
            }
            guard let scalar = value.scalar else {
                throw ConfigError("\(path)\(line): \(name) must be a single value")
            }
            out[name] = scalar.string
        }
        return out
    }
}

struct ConfigError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
