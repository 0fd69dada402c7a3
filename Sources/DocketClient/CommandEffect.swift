import DocketWire
import NIOCore

/// What a command does to the connection state the client tracks: whether
/// it is watching (so RESP2 `message` arrays are pushes) and which protocol
/// version replies use.
enum CommandEffect: Sendable, Hashable {
    /// `WATCH ...`: pushes may follow. Applied when the command is written.
    case watch
    /// `UNWATCH`: no more pushes. Applied when its reply arrives, so pushes
    /// sent before the server processed it are still recognised.
    case unwatch
    /// `RESET`: back to RESP2, not watching. Applied on its reply.
    case reset
    /// `HELLO <version>`: switches the protocol. Applied on a non-error reply.
    case hello(RESPVersion)

    /// Classifies a command by its name (case-insensitively) and first argument.
    init?(name: String, argument: String?) {
        switch name.uppercased() {
        case "WATCH": self = .watch
        case "UNWATCH": self = .unwatch
        case "RESET": self = .reset
        case "HELLO":
            guard let argument, let number = Int(argument), let version = RESPVersion(rawValue: number) else {
                return nil
            }
            self = .hello(version)
        default: return nil
        }
    }

    /// Classifies a command given as strings.
    init?(_ args: [String]) {
        guard let name = args.first, name.utf8.count <= 7 else { return nil }
        self.init(name: name, argument: args.count > 1 ? args[1] : nil)
    }

    /// Classifies a command given as binary-safe arguments.
    init?(_ args: [ByteBuffer]) {
        guard let name = args.first, name.readableBytes <= 7 else { return nil }
        let argument = args.count > 1 && args[1].readableBytes <= 8 ? String(buffer: args[1]) : nil
        self.init(name: String(buffer: name), argument: argument)
    }
}

/// The protocol state of a connection, kept by ``RESPClientHandler`` on the
/// event loop and mirrored for ``DocketClient/protocolVersion``.
struct ConnectionState: Sendable {
    var version: RESPVersion = .resp2
    var watching = false
}
