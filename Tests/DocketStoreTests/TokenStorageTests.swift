import DocketCore
@testable import DocketStore
import DocketTestSupport
import Foundation
import PostgresNIO
import Testing

/// Tokens are shown once and kept only as SHA-256 hashes; checking one compares every byte.
@Suite("Tokens: stored hashed, compared in full")
struct TokenStorageTests {
    @Test("the tokens table holds a 32-byte SHA-256 of each token and never the token itself")
    func storedHashed() async throws {
        try await TestDatabase.withStore { store, _ in
            try await store.addUser(handle: "ana", name: "Ana Petrova")
            let token = try await store.createToken(for: "ana")
            #expect(token.hasPrefix("dkt_") && token.count == 68)
            let rows = try await store.client.query("SELECT hash, to_jsonb(t)::text FROM tokens t WHERE handle = 'ana'")
            var seen = 0
            for try await (hash, whole) in rows.decode((ByteBuffer, String).self) {
                seen += 1
                #expect(Array(hash.readableBytesView) == Store.tokenHash(token))
                #expect(hash.readableBytes == 32)
                #expect(!whole.contains(token) && !whole.contains(String(token.dropFirst(4))), "\(whole)")
            }
            #expect(seen == 1)
            #expect(try await store.authenticate(handle: "ana", token: token)?.handle == "ana")
            #expect(try await store.authenticate(handle: "ana", token: token + "0") == nil)
            #expect(try await store.authenticate(handle: "bruno", token: token) == nil)
        }
    }

    @Test("the comparison looks at every byte: a difference in the last one is found, lengths must match")
    func constantTimeEqual() {
        let a = Store.tokenHash("dkt_one")
        var b = a
        b[31] ^= 1
        #expect(Store.constantTimeEqual(a, a))
        #expect(!Store.constantTimeEqual(a, b))
        #expect(!Store.constantTimeEqual(a, Array(a.dropLast())))
        #expect(!Store.constantTimeEqual([], a))
    }
}
