/// Size limits enforced by ``RESPRequestParser`` while it reads requests.
///
/// All limits are checked as soon as the bytes that break them are seen, so a
/// parser never buffers more than the limits allow: an overlong inline line is
/// rejected once `maxInlineLength + 1` bytes of it (`+ 2` if the last is a `\r`)
/// have arrived without a newline, and
/// an oversized bulk string is rejected on its `$<len>` header, before any of
/// its payload is received.
///
/// Until the connection has authenticated (``RESPRequestParser/authenticated``
/// is `false`) the much smaller `preAuth*` limits apply on top of the others.
public struct RESPLimits: Sendable, Hashable {
    /// Most bytes an inline request line may have, not counting its `\n` or
    /// `\r\n` terminator. Default 64 KiB.
    public var maxInlineLength: Int
    /// Largest bulk string (`$<len>`) accepted in a request. Default 16 MiB.
    public var maxBulkLength: Int
    /// Most elements a multibulk request (`*<count>`) may have. Default 1,024.
    public var maxArrayLength: Int
    /// Most arguments (command name included) a request may have before the
    /// connection is authenticated. Default 10.
    public var preAuthMaxArguments: Int
    /// Most bytes, as sent on the wire (framing included), a single request
    /// may have before the connection is authenticated. Default 16 KiB.
    public var preAuthMaxBytes: Int

    /// Creates limits; every parameter defaults to the documented default.
    public init(
        maxInlineLength: Int = 64 * 1024,
        maxBulkLength: Int = 16 * 1024 * 1024,
        maxArrayLength: Int = 1024,
        preAuthMaxArguments: Int = 10,
        preAuthMaxBytes: Int = 16 * 1024
    ) {
        self.maxInlineLength = maxInlineLength
        self.maxBulkLength = maxBulkLength
        self.maxArrayLength = maxArrayLength
        self.preAuthMaxArguments = preAuthMaxArguments
        self.preAuthMaxBytes = preAuthMaxBytes
    }

    /// The documented defaults (64 KiB inline, 16 MiB bulk, 1,024 elements,
    /// 10 arguments and 16 KiB before AUTH).
    public static let `default` = RESPLimits()
}
