/// Bounds how many tests hold a database (and servers on it) at once, so a parallel test run on
/// a small machine does not starve PostgreSQL into timeouts.
actor TestPermits {
    static let shared = TestPermits(limit: Int(ProcessInfo.processInfo.environment["DOCKET_TEST_PARALLEL"] ?? "") ?? 3)

    private var available: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) { available = max(1, limit) }

    func acquire() async {
        if available > 0 {
            available -= 1
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    func release() {
        if waiting.isEmpty {
            available += 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}

import Foundation
