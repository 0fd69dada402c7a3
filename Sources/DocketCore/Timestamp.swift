import Foundation

/// RFC 3339 timestamps in UTC with seconds, as the protocol writes them: `2026-11-28T09:30:00Z`.
public enum Timestamp {
    public static func format(_ date: Date) -> String {
        let text = String(unsafeUninitializedCapacity: 20) { out in write(date, into: UnsafeMutableRawBufferPointer(out)) ? 20 : 0 }
        guard text.isEmpty else { return text }
        let (y, m, d, rest) = parts(date)
        return String(format: "%04ld-%02ld-%02ldT%02ld:%02ld:%02ldZ", Int(y), Int(m), Int(d), Int(rest / 3600), Int((rest % 3600) / 60), Int(rest % 60))
    }

    /// Calls `body` with the UTF-8 bytes of `format(date)`, without making a `String` of them
    /// for years 0-9999: replies write them straight into their buffer (an item carries three).
    public static func withUTF8<R>(_ date: Date, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var digits: (UInt64, UInt64, UInt32) = (0, 0, 0)  // 20 bytes, on the stack
        return try withUnsafeMutableBytes(of: &digits) { raw in
            if write(date, into: raw) { return try body(UnsafeRawBufferPointer(rebasing: raw[0..<20])) }
            var text = format(date)
            return try text.withUTF8 { try body(UnsafeRawBufferPointer($0)) }
        }
    }

    /// Writes the 20 bytes of a timestamp in years 0-9999 into `out` (at least 20 bytes);
    /// false, writing nothing, for any other year. Digits by hand: String(format:) showed in
    /// profiles.
    static func write(_ date: Date, into out: UnsafeMutableRawBufferPointer) -> Bool {
        let (y, m, d, rest) = parts(date)
        guard (0...9999).contains(y), out.count >= 20 else { return false }
        func put(_ value: Int64, _ width: Int, at start: Int) {
            var v = value
            for i in stride(from: start + width - 1, through: start, by: -1) {
                out[i] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
            }
        }
        put(y, 4, at: 0); out[4] = UInt8(ascii: "-")
        put(m, 2, at: 5); out[7] = UInt8(ascii: "-")
        put(d, 2, at: 8); out[10] = UInt8(ascii: "T")
        put(rest / 3600, 2, at: 11); out[13] = UInt8(ascii: ":")
        put((rest % 3600) / 60, 2, at: 14); out[16] = UInt8(ascii: ":")
        put(rest % 60, 2, at: 17); out[19] = UInt8(ascii: "Z")
        return true
    }

    /// Parses `2026-11-28T09:30:00Z`, with optional fractional seconds and a numeric offset,
    /// or a plain date `2026-11-28` (midnight UTC).
    public static func parse(_ text: String) -> Date? {
        if text.count == 10 { return Engine.parseDate(text) }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: text)
    }

    /// Year, month, day and seconds into that day (UTC) of `date`, to the second below.
    static func parts(_ date: Date) -> (year: Int64, month: Int64, day: Int64, second: Int64) {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let days = floorDiv(seconds, 86_400)
        let (y, m, d) = civil(fromDays: days)
        return (y, m, d, seconds - days * 86_400)
    }

    static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }

    /// Howard Hinnant's days-to-civil algorithm.
    static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
