import Foundation

/// RFC 3339 timestamps in UTC with seconds, as the protocol writes them: `2026-11-28T09:30:00Z`.
public enum Timestamp {
    public static func format(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let days = floorDiv(seconds, 86_400)
        let rest = seconds - days * 86_400
        let (y, m, d) = civil(fromDays: days)
        return String(format: "%04ld-%02ld-%02ldT%02ld:%02ld:%02ldZ", Int(y), Int(m), Int(d), Int(rest / 3600), Int((rest % 3600) / 60), Int(rest % 60))
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
