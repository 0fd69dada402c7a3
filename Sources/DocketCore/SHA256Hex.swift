import Crypto
import Foundation

/// Lowercase hex SHA-256 digests: revision checksums, migration and workflow checksums, and
/// the stable names of relocated cluster directories.
public enum SHA256Hex {
    /// The lowercase hex SHA-256 digest of the UTF-8 bytes of `string`.
    public static func digest(_ string: String) -> String {
        SHA256.hash(data: Data(string.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
