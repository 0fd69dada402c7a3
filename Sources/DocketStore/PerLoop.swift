import NIOConcurrencyHelpers
import NIOCore

/// One value per event loop, made on the loop's first use; none once closed. The loops' own
/// readers (`LoopReaders`) and connection pools (`LoopPools`) keep theirs here.
final class PerLoop<Value: Sendable>: Sendable {
    /// The values by event loop, each with its loop; nil once closed.
    private let values = NIOLockedValueBox<[ObjectIdentifier: (loop: any EventLoop, value: Value)]?>([:])

    /// `loop`'s value, made by `make` on first use; nil after `close()`.
    func value(on loop: any EventLoop, make: (any EventLoop) -> Value) -> Value? {
        values.withLockedValue { values in
            let key = ObjectIdentifier(loop)
            if let made = values?[key] { return made.value }
            guard values != nil else { return nil }
            let value = make(loop)
            values?[key] = (loop, value)
            return value
        }
    }

    /// Every value made so far.
    var all: [Value] { values.withLockedValue { ($0 ?? [:]).values.map(\.value) } }

    /// Ends the registry: no value is made after this. `close` runs for each value made so
    /// far, on that value's loop.
    func close(each close: @escaping @Sendable (Value) -> Void) {
        let made = values.withLockedValue { values in
            defer { values = nil }
            return Array((values ?? [:]).values)
        }
        for (loop, value) in made { loop.execute { close(value) } }
    }
}
