import DocketStore
import NIOConcurrencyHelpers
import PostgresNIO

/// `LISTEN channel` on a pooled connection until cancelled, listening again after every
/// failure (half a second later). `listening` runs each time the LISTEN is in place (anything
/// may have happened while nobody listened), `notified` at each notification, and `lost`
/// each time the connection is lost. Outages are logged once, through `health`.
func listenUntilCancelled(store: Store, channel: String, health: OutageLog,
                          listening: @escaping @Sendable () async -> Void,
                          notified: @escaping @Sendable (_ payload: String) async -> Void,
                          lost: @escaping @Sendable () -> Void = {}) async {
    let current = NIOLockedValueBox<PostgresConnection?>(nil)
    while !Task.isCancelled {
        do {
            try await withTaskCancellationHandler {
                try await store.client.withConnection { connection in
                    current.withLockedValue { $0 = connection }
                    defer { current.withLockedValue { $0 = nil } }
                    // Cancelled while the lease was pending: onCancel found no connection to close.
                    try Task.checkCancellation()
                    try await connection.listen(on: channel) { notifications in
                        health.succeeded()
                        await listening()
                        for try await notification in notifications { await notified(notification.payload) }
                    }
                }
            } onCancel: {
                // A LISTEN waits for notifications forever: closing its connection ends it.
                current.withLockedValue { $0 }?.close().whenComplete { _ in }
            }
        } catch {
            if Task.isCancelled { return }
            health.failed(error)
        }
        lost()
        try? await Task.sleep(for: .milliseconds(500))
    }
}
