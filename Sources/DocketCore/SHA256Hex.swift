import Crypto
import Foundation

/// Lowercase hex: SHA-256 digests (revision checksums, migration and workflow checksums, the
/// stable names of relocated cluster directories), event hashes and tokens.
public enum SHA256Hex {
    /// The lowercase hex SHA-256 digest of the UTF-8 bytes of `string`.
    public static func digest(_ string: String) -> String {
        hex(Array(SHA256.hash(data: Data(string.utf8))))
    }

    private static let digits = Array("0123456789abcdef".utf8)

    /// `bytes` in lowercase hex, two digits each (written by hand: `String(format:)` was a
    /// visible part of a transition's cost).
    public static func hex(_ bytes: [UInt8]) -> String {
        String(unsafeUninitializedCapacity: bytes.count * 2) { buffer in
            for (i, b) in bytes.enumerated() {
                buffer[2 * i] = digits[Int(b >> 4)]
                buffer[2 * i + 1] = digits[Int(b & 0x0F)]
            }
            return bytes.count * 2
        }
    }
}
