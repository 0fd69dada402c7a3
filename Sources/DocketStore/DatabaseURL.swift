import Foundation
import NIOSSL
import PostgresNIO

/// Parses `postgres://user:password@host:port/database?sslmode=disable&host=/socket/dir`
/// into a PostgresNIO configuration. A `host` query parameter that is a path selects a Unix
/// socket directory, as libpq does.
public struct DatabaseURL: Sendable, Hashable, CustomStringConvertible {
    public var user: String
    public var password: String?
    public var host: String
    public var port: Int
    public var database: String
    /// Directory holding the server's Unix socket, when connecting through one.
    public var socketDirectory: String?
    public var sslMode: String

    public init(_ text: String) throws(StoreError) {
        guard let components = URLComponents(string: text),
              ["postgres", "postgresql"].contains(components.scheme ?? "") else {
            throw .invalid("database URL \"\(Self.redact(text))\" is not a postgres:// URL")
        }
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { $1 })
        user = components.percentEncodedUser?.removingPercentEncoding ?? query["user"] ?? "postgres"
        password = components.percentEncodedPassword?.removingPercentEncoding ?? query["password"]
        port = components.port ?? query["port"].flatMap(Int.init) ?? 5432
        let path = components.percentEncodedPath.removingPercentEncoding ?? ""
        database = path.hasPrefix("/") ? String(path.dropFirst()) : path
        if database.isEmpty { database = query["dbname"] ?? user }
        let hostParameter = query["host"]
        if let dir = hostParameter, dir.hasPrefix("/") {
            socketDirectory = dir
            host = "localhost"
        } else {
            host = components.host.flatMap { $0.isEmpty ? nil : $0 } ?? hostParameter ?? "localhost"
        }
        sslMode = query["sslmode"] ?? "prefer"
    }

    /// The URL with the password hidden, for logs and messages.
    public var description: String {
        let auth = user + (password == nil ? "" : ":***")
        if let socketDirectory { return "postgres://\(auth)@/\(database)?host=\(socketDirectory)&port=\(port)" }
        return "postgres://\(auth)@\(host):\(port)/\(database)"
    }

    static func redact(_ text: String) -> String {
        text.replacingOccurrences(of: #":[^:@/]*@"#, with: ":***@", options: .regularExpression)
    }

    public func clientConfiguration(maximumConnections: Int = 20) -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        if let socketDirectory {
            configuration = .init(unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)", username: user, password: password, database: database)
        } else {
            let tls: PostgresClient.Configuration.TLS = switch sslMode {
            case "disable": .disable
            case "require", "verify-ca", "verify-full": .require(.makeClientConfiguration())
            default: .prefer(.makeClientConfiguration())
            }
            configuration = .init(host: host, port: port, username: user, password: password, database: database, tls: tls)
        }
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }
}

extension DatabaseURL {
    /// The settings of one connection outside the pool (the event-loop readers).
    public func connectionConfiguration() throws -> PostgresConnection.Configuration {
        if let socketDirectory {
            return .init(unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)", username: user, password: password, database: database)
        }
        let tls: PostgresConnection.Configuration.TLS = switch sslMode {
        case "disable": .disable
        case "require", "verify-ca", "verify-full": .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        default: .prefer(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
        return .init(host: host, port: port, username: user, password: password, database: database, tls: tls)
    }
}

extension DatabaseURL {
    /// A URL that parses back to this value (password included), for child processes.
    public var connectionString: String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        func enc(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s }
        let auth = enc(user) + (password.map { ":" + enc($0) } ?? "")
        if let socketDirectory { return "postgres://\(auth)@/\(enc(database))?host=\(enc(socketDirectory))&port=\(port)" }
        return "postgres://\(auth)@\(host):\(port)/\(enc(database))?sslmode=\(sslMode)"
    }
}
