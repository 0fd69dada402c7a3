import DocketCore
import Foundation

/// Dates and durations as people read them in tables.
enum When {
    /// `2026-11-28 09:30` from an RFC 3339 timestamp; the text itself if it does not parse.
    static func short(_ timestamp: String?) -> String {
        guard let timestamp, !timestamp.isEmpty else { return "" }
        guard Timestamp.parse(timestamp) != nil else { return timestamp }
        return String(timestamp.prefix(16)).replacingOccurrences(of: "T", with: " ")
    }

    /// `2026-11-28` from an RFC 3339 timestamp.
    static func day(_ timestamp: String?) -> String {
        guard let timestamp, !timestamp.isEmpty else { return "" }
        return String(timestamp.prefix(10))
    }

    /// A due date with how far away it is: `2026-12-12 (in 13d)`, `2026-11-01 (3d overdue)`,
    /// styled red when overdue and yellow within two days.
    static func due(_ timestamp: String?, now: Date = Date()) -> Table.Cell {
        guard let timestamp, let date = Timestamp.parse(timestamp) else { return Table.Cell("—", .dim) }
        let left = date.timeIntervalSince(now)
        let shown = abs(left) >= 86_400 ? day(timestamp) : short(timestamp)
        if left < 0 { return Table.Cell("\(shown) (\(duration(-left)) overdue)", .red) }
        return Table.Cell("\(shown) (in \(duration(left)))", left < 2 * 86_400 ? .yellow : nil)
    }

    /// Whether an RFC 3339 due time has passed.
    static func isOverdue(_ timestamp: String?, now: Date = Date()) -> Bool {
        guard let timestamp, let date = Timestamp.parse(timestamp) else { return false }
        return date < now
    }

    /// How long ago: `3d ago`, `5m ago`.
    static func ago(_ timestamp: String?, now: Date = Date()) -> String {
        guard let timestamp, let date = Timestamp.parse(timestamp) else { return "" }
        return duration(now.timeIntervalSince(date)) + " ago"
    }

    /// A length of time in at most two units: `3d4h`, `2h15m`, `45s`.
    static func duration(_ seconds: Double) -> String {
        var s = Int(max(0, seconds).rounded())
        // Round away the last unit's noise: 44d23h59m is 45d, 2h59m59s is 3h.
        if s >= 86_400 { s = (s + 1_800) / 3_600 * 3_600 } else if s >= 3_600 { s = (s + 30) / 60 * 60 }
        let units: [(String, Int)] = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)]
        for (i, (unit, size)) in units.enumerated() where s >= size {
            var out = "\(s / size)\(unit)"
            if i + 1 < units.count {
                let (next, nextSize) = units[i + 1]
                let rest = (s % size) / nextSize
                if rest > 0 { out += "\(rest)\(next)" }
            }
            return out
        }
        return "0s"
    }
}
