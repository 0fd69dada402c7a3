import DocketStore
import Logging
import NIOConcurrencyHelpers

/// A counter that moves whenever the directory changes in a way that could take rights away
/// (a token revoked, a role granted or revoked). Each session remembers the epoch its actor
/// was checked at; at its next command after a change the server checks the token again, so
/// a revoked token stops working on connections that are already open.
///
/// Changes made through this instance bump it at once; changes made through other instances
/// arrive by `LISTEN docket_directory` (the store notifies in the same transaction). While
/// that listener is down, or after it reconnects, the epoch is bumped too: a missed
/// notification must never leave a revoked token working.
final class DirectoryEpoch: Sendable {
    private let value = NIOLockedValueBox(1)

    var current: Int { value.withLockedValue { $0 } }
    func bump() { value.withLockedValue { $0 += 1 } }

    /// Listens for directory changes until cancelled.
    func listen(store: Store, logger: Logger) async {
        await listenUntilCancelled(store: store, channel: Store.directoryChannel,
                                   health: OutageLog(logger: logger, what: "directory listener"),
                                   listening: { self.bump() }, notified: { _ in self.bump() }, lost: { self.bump() })
    }
}
