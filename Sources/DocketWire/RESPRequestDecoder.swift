import NIOCore

/// NIO glue for the server: a `ByteToMessageHandler` decoder producing one
/// request (its arguments) per message, backed by ``RESPRequestParser``.
///
/// It is a final class so the session can keep a reference and switch the
/// connection to authenticated limits after a successful `AUTH`:
///
/// ```swift
/// let decoder = RESPRequestDecoder(limits: limits, authenticated: !passwordRequired)
/// try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(decoder))
/// try channel.pipeline.syncOperations.addHandler(SessionHandler(decoder: decoder))
/// // later, in SessionHandler, on the event loop, after AUTH succeeded:
/// decoder.authenticated = true
/// ```
///
/// `ByteToMessageHandler` decodes every complete request already buffered
/// before it returns, so a flip made synchronously inside `channelRead` of
/// the `AUTH` request applies to the very next request. A flip made later
/// (after an asynchronous check) only applies to requests decoded after it;
/// requests pipelined behind `AUTH` were checked against the pre-auth limits.
///
/// The decoder is not `Sendable`: like the channel handlers that share it,
/// create it inside the channel initializer and touch it only on the
/// channel's event loop. Errors are thrown as ``RESPProtocolError`` and reach
/// the pipeline's `errorCaught`; answer them with
/// ``RESPProtocolError/reply`` (or nothing, for
/// ``RESPProtocolError/Kind/httpRequest``) and close the channel.
public final class RESPRequestDecoder: NIOSingleStepByteToMessageDecoder {
    /// One request: its arguments, the command name first.
    public typealias InboundOut = [ByteBuffer]

    /// The underlying parser, with its limits and authentication state.
    public var parser: RESPRequestParser

    /// Whether the connection has authenticated (lifts the pre-auth limits).
    public var authenticated: Bool {
        get { parser.authenticated }
        set { parser.authenticated = newValue }
    }

    /// The limits in force.
    public var limits: RESPLimits {
        get { parser.limits }
        set { parser.limits = newValue }
    }

    /// Creates a decoder; connections start unauthenticated unless told otherwise.
    public init(limits: RESPLimits = .default, authenticated: Bool = false) {
        self.parser = RESPRequestParser(limits: limits, authenticated: authenticated)
    }

    /// Decodes the next request, or returns `nil` if more bytes are needed.
    public func decode(buffer: inout ByteBuffer) throws(RESPProtocolError) -> [ByteBuffer]? {
        try parser.next(&buffer)
    }

    /// Decodes the requests still complete at EOF; an incomplete trailing
    /// request is dropped.
    public func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws(RESPProtocolError) -> [ByteBuffer]? {
        try parser.next(&buffer)
    }
}

@available(*, unavailable)
extension RESPRequestDecoder: Sendable {}
