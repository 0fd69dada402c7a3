/// The RESP protocol generation a connection speaks.
///
/// A connection starts in ``resp2`` and switches to ``resp3`` once the client
/// sends `HELLO 3`. The version only affects how replies are *encoded*
/// (see ``RESPEncoder``); requests always use the same framing.
public enum RESPVersion: Int, Sendable, Hashable, CaseIterable {
    /// RESP2: the classic Redis protocol (`+ - : $ *`).
    case resp2 = 2
    /// RESP3: adds maps, sets, doubles, booleans, nulls, big numbers,
    /// verbatim strings and pushes.
    case resp3 = 3
}
