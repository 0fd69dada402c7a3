import NIOConcurrencyHelpers
import NIOCore

/// One value per event loop, made on the loop's first use; none once closed. The loops' own
/// readers (`LoopReaders`) and connection pools (`LoopPools`) keep theirs here.
final class PerLoop<Value: Sendable>: Sendable {
    /// The values by event loop; nil once closed.
    private let values = NIOLockedValueBox<[ObjectIdentifier: Value]?>([:])

    /// `loop`'s value, made by `make` on first use; nil after `close()`.
    func value(on loop: any EventLoop, make: (any EventLoop) -> Value) -> Value? {
        values.withLockedValue { values in
            let key = ObjectIdentifier(loop)
            if let value = values?[key] { return value }
            guard values != nil else { return nil }
            let value = make(loop)
            values?[key] = value
            return value
        }
    }

    /// Every value made so far.
    var all: [Value] { values.withLockedValue { Array(($0 ?? [:]).values) } }

    /// Ends the registry: no value is made after this. Returns those made so far, to close.
    func close() -> [Value] {
        values.withLockedValue { values in
            defer { values = nil }
            return Array((values ?? [:]).values)
        }
    }
}
