import DocketStore
import Logging
import NIOConcurrencyHelpers
import PostgresNIO

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
        let listening = NIOLockedValueBox<PostgresConnection?>(nil)
        while !Task.isCancelled {
            do {
                try await withTaskCancellationHandler {
                    try await store.client.withConnection { connection in
                        listening.withLockedValue { $0 = connection }
                        defer { listening.withLockedValue { $0 = nil } }
                        try Task.checkCancellation()
                        try await connection.listen(on: Store.directoryChannel) { notifications in
                            // Anything could have changed while nobody listened.
                            self.bump()
                            for try await _ in notifications { self.bump() }
                        }
                    }
                } onCancel: {
                    listening.withLockedValue { $0 }?.close().whenComplete { _ in }
                }
            } catch {
                if Task.isCancelled { return }
                logger.debug("directory listener: \(error); retrying")
            }
            bump()
            try? await Task.sleep(for: .milliseconds(500))
        }
    }
}
