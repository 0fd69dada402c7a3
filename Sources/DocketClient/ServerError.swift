/// An error reply from the server, such as `-NOTFOUND item PP-9 not found`.
///
/// The first word of the message is its class: `ERR`, `NOAUTH`, `WRONGPASS`,
/// `NOPERM`, `NOTFOUND`, `INVALID`, `DENIED`, `CONFLICT` or `UNAVAILABLE`.
/// `DocketClient.call` throws it for error replies.
public struct ServerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The error class, the first word of the reply (`NOTFOUND`).
    public let code: String
    /// The rest of the reply after the class and one space
    /// (`item PP-9 not found`); empty when the reply is a single word.
    public let message: String

    /// Creates an error from its class and message.
    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    /// Parses an error reply's text (without the leading `-`): the code is
    /// everything before the first space, the message everything after it.
    /// An empty line gives the code `ERR`.
    public init(line: String) {
        if let space = line.firstIndex(of: " ") {
            self.init(code: String(line[..<space]), message: String(line[line.index(after: space)...]))
        } else {
            self.init(code: line.isEmpty ? "ERR" : line, message: "")
        }
    }

    /// The whole reply text: `NOTFOUND item PP-9 not found`.
    public var line: String {
        message.isEmpty ? code : "\(code) \(message)"
    }

    /// The whole reply text, as ``line``.
    public var description: String { line }
}
