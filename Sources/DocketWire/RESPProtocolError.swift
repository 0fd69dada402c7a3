/// A violation of the RESP protocol or of a configured limit.
///
/// The server answers every error whose ``kind`` is not
/// ``Kind/httpRequest`` with ``reply`` (as a RESP error) and then closes the
/// connection; for ``Kind/httpRequest`` it closes without answering.
public struct RESPProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The broad class of a protocol error.
    public enum Kind: Sendable, Hashable {
        /// The bytes are not valid RESP (bad length, bad type byte, bad quoting...).
        case malformed
        /// The bytes are valid RESP but exceed a configured limit.
        case limit
        /// The client sent what looks like an HTTP request; close silently.
        case httpRequest
    }

    /// The class of the error.
    public let kind: Kind
    /// The Redis-style description, e.g. `invalid multibulk length`.
    public let message: String

    /// Creates an error of the given kind.
    public init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    /// The error reply text sent to the client (without the leading `-`):
    /// `ERR Protocol error: <message>`.
    public var reply: String { "ERR Protocol error: \(message)" }

    /// A readable description: the reply text.
    public var description: String { reply }
}

extension RESPProtocolError {
    // MARK: Request framing (texts as in Redis' networking.c)

    /// `*` header that is not a valid integer.
    public static let invalidMultibulkLength = RESPProtocolError(kind: .malformed, message: "invalid multibulk length")
    /// `*` header larger than ``RESPLimits/maxArrayLength``.
    public static let multibulkLengthTooLarge = RESPProtocolError(kind: .limit, message: "invalid multibulk length")
    /// `$` header that is not a valid non-negative integer.
    public static let invalidBulkLength = RESPProtocolError(kind: .malformed, message: "invalid bulk length")
    /// `$` header larger than ``RESPLimits/maxBulkLength``.
    public static let bulkLengthTooLarge = RESPProtocolError(kind: .limit, message: "invalid bulk length")
    /// Bulk payload not followed by `\r\n`.
    public static let invalidBulkTerminator = RESPProtocolError(kind: .malformed, message: "expected CRLF after bulk data")
    /// Inline request line longer than ``RESPLimits/maxInlineLength``.
    public static let tooBigInlineRequest = RESPProtocolError(kind: .limit, message: "too big inline request")
    /// Inline request with more words than ``RESPLimits/maxArrayLength``.
    public static let tooManyInlineArguments = RESPProtocolError(kind: .limit, message: "too many arguments in inline request")
    /// Inline request with an unterminated quote or a closing quote not followed by a space.
    public static let unbalancedQuotes = RESPProtocolError(kind: .malformed, message: "unbalanced quotes in request")
    /// More than ``RESPLimits/preAuthMaxArguments`` arguments before AUTH.
    public static let tooManyArgumentsBeforeAuth = RESPProtocolError(kind: .limit, message: "too many arguments before AUTH")
    /// A request larger than ``RESPLimits/preAuthMaxBytes`` before AUTH.
    public static let requestTooLargeBeforeAuth = RESPProtocolError(kind: .limit, message: "request too large before AUTH")
    /// An HTTP request line or `Host:` header arrived on the RESP port.
    public static let httpRequest = RESPProtocolError(kind: .httpRequest, message: "HTTP request on RESP port")

    /// A multibulk element that does not start with `$`, e.g. `expected '$', got 'f'`.
    /// Non-printable bytes are shown as `\xHH`.
    public static func expectedDollar(got byte: UInt8) -> RESPProtocolError {
        RESPProtocolError(kind: .malformed, message: "expected '$', got '\(printable(byte))'")
    }

    // MARK: Reply parsing (client side)

    /// A reply started with a byte that is not a RESP2/RESP3 type marker.
    public static func unknownReplyType(_ byte: UInt8) -> RESPProtocolError {
        RESPProtocolError(kind: .malformed, message: "unknown reply type '\(printable(byte))'")
    }

    /// A reply line or header that could not be parsed; `what` names the type.
    public static func invalidReply(_ what: String) -> RESPProtocolError {
        RESPProtocolError(kind: .malformed, message: "invalid \(what)")
    }

    /// A reply element larger than the parser's limits; `what` names the type.
    public static func replyTooLarge(_ what: String) -> RESPProtocolError {
        RESPProtocolError(kind: .limit, message: "too big \(what)")
    }

    /// Aggregates nested deeper than the parser allows.
    public static let nestingTooDeep = RESPProtocolError(kind: .limit, message: "reply nested too deeply")

    /// A streamed (`$?`, `*?`...) RESP3 aggregate, which is not supported.
    public static let streamedNotSupported = RESPProtocolError(kind: .malformed, message: "streamed types are not supported")

    static func printable(_ byte: UInt8) -> String {
        if byte >= 0x20 && byte < 0x7F {
            return String(UnicodeScalar(byte))
        }
        let hex = String(byte, radix: 16)
        return "\\x" + (hex.count == 1 ? "0" + hex : hex)
    }
}
