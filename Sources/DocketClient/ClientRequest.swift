import DocketWire
import NIOCore

/// One write to the server: the encoded bytes of `count` commands and the
/// promise that receives their `count` replies, in order.
struct ClientRequest: Sendable {
    /// The encoded commands.
    var bytes: ByteBuffer
    /// How many commands `bytes` holds, hence how many replies to collect.
    var count: Int
    /// The commands that change connection state, by their index in the request.
    var effects: [Effect]
    /// Completed with the replies, or failed with a ``ClientError``.
    var promise: EventLoopPromise<[RESPValue]>

    /// A state-changing command and its position in the request.
    struct Effect: Sendable {
        var index: Int
        var effect: CommandEffect
    }
}
