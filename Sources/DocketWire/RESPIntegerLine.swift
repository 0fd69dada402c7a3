import NIOCore

/// Incremental scanner for `<type><integer>\r\n` lines (`*3`, `$5`, `:-1`...).
///
/// The scan is decided by the prefix seen so far: it reports
/// ``Result/invalid`` at the first byte that no completion could make valid,
/// so a caller re-scanning a growing buffer gets the same answer however the
/// input was split, and never buffers more than 22 bytes of a header.
/// Integers follow Redis' `string2ll`: optional `-`, no `+`, no leading
/// zeros, no `-0`, within `Int64`.
enum RESPIntegerLine {
    enum Result: Equatable {
        /// The line is not complete yet (and nothing is wrong so far).
        case needMoreData
        /// The line is not a valid integer line.
        case invalid
        /// The integer and the line's length, type byte and `\r\n` included.
        case value(Int64, length: Int)
    }

    /// Scans the line whose type byte is at `offset` bytes past the reader index.
    static func scan(_ buffer: ByteBuffer, offset: Int = 0) -> Result {
        buffer.withUnsafeReadableBytes { bytes in
            scan(bytes, typeByteAt: offset)
        }
    }

    static func scan(_ bytes: UnsafeRawBufferPointer, typeByteAt start: Int) -> Result {
        var i = start + 1
        var negative = false
        var digits = 0
        var magnitude: UInt64 = 0
        let limit: UInt64 = UInt64(Int64.max)
        while i < bytes.count {
            let byte = bytes[i]
            switch byte {
            case UInt8(ascii: "-"):
                guard i == start + 1 else { return .invalid }
                negative = true
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                let digit = UInt64(byte - UInt8(ascii: "0"))
                // Leading zeros and "-0" are invalid (string2ll).
                if digits == 1 && magnitude == 0 { return .invalid }
                if negative && digits == 0 && digit == 0 { return .invalid }
                let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (next, o2) = times10.addingReportingOverflow(digit)
                if o1 || o2 || next > limit + (negative ? 1 : 0) { return .invalid }
                magnitude = next
                digits += 1
            case UInt8(ascii: "\r"):
                guard digits > 0 else { return .invalid }
                guard i + 1 < bytes.count else { return .needMoreData }
                guard bytes[i + 1] == UInt8(ascii: "\n") else { return .invalid }
                let value: Int64 = negative ? Int64(truncatingIfNeeded: 0 &- magnitude) : Int64(magnitude)
                return .value(value, length: i + 2 - start)
            default:
                return .invalid
            }
            i += 1
        }
        return .needMoreData
    }
}
