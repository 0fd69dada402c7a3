import NIOCore

/// NIO glue for clients: a `ByteToMessageHandler` decoder producing one
/// reply per message, backed by ``RESPValueParser``.
///
/// ```swift
/// try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RESPValueDecoder()))
/// ```
///
/// RESP3 attributes are skipped; errors are thrown as ``RESPProtocolError``.
public struct RESPValueDecoder: NIOSingleStepByteToMessageDecoder, Sendable {
    /// One complete reply.
    public typealias InboundOut = RESPValue

    /// The underlying parser and its bounds.
    public var parser: RESPValueParser

    /// Creates a decoder with the given parser bounds.
    public init(parser: RESPValueParser = RESPValueParser()) {
        self.parser = parser
    }

    /// Decodes the next reply, or returns `nil` if more bytes are needed.
    public mutating func decode(buffer: inout ByteBuffer) throws(RESPProtocolError) -> RESPValue? {
        try parser.next(&buffer)
    }

    /// Decodes the replies still complete at EOF; an incomplete one is dropped.
    public mutating func decodeLast(buffer: inout ByteBuffer, seenEOF: Bool) throws(RESPProtocolError) -> RESPValue? {
        try parser.next(&buffer)
    }
}
