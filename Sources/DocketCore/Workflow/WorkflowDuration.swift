import Foundation

/// A length of time written the way workflow authors write it: `14d`, `12h`, `30m`, `2w`,
/// or several parts together (`1d12h`).
public struct WorkflowDuration: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Whole seconds.
    public let seconds: Int64

    public init(seconds: Int64) { self.seconds = seconds }

    static let units: [(Character, Int64)] = [("w", 604_800), ("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)]

    /// The longest duration a definition may name: 36,500 days (about a century). Anything
    /// longer is a mistake, and a due time past year 9999 would not fit a timestamp.
    public static let maximum = WorkflowDuration(seconds: 36_500 * 86_400)

    /// Parses `14d`, `36h`, `1d12h`, `90m`, `45s`. Returns nil for anything else, including
    /// zero and anything longer than ``maximum``.
    public init?(_ text: String) {
        var total: Int64 = 0
        var digits = ""
        var sawPart = false
        for ch in text.trimmingCharacters(in: .whitespaces) {
            if ch.isASCII, ch.isNumber {
                digits.append(ch)
            } else if let unit = Self.units.first(where: { $0.0 == ch }) {
                guard let n = Int64(digits), digits.count <= 9 else { return nil }
                total += n * unit.1
                guard total <= Self.maximum.seconds else { return nil }
                digits = ""
                sawPart = true
            } else {
                return nil
            }
        }
        guard digits.isEmpty, sawPart, total > 0 else { return nil }
        self.seconds = total
    }

    /// The shortest spelling: `21d`, `1d12h`.
    public var description: String {
        var rest = seconds
        var out = ""
        for (unit, size) in Self.units where unit != "w" {
            if rest >= size {
                out += "\(rest / size)\(unit)"
                rest %= size
            }
        }
        return out.isEmpty ? "0s" : out
    }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.seconds < rhs.seconds }
}


extension Date {
    /// This instant moved forward by a workflow duration.
    public func adding(_ duration: WorkflowDuration) -> Date {
        addingTimeInterval(TimeInterval(duration.seconds))
    }

    /// Microseconds since 1970, the exact integer stored in PostgreSQL and hashed in the audit chain.
    public var epochMicroseconds: Int64 {
        Int64((timeIntervalSince1970 * 1_000_000).rounded())
    }

    /// The instant `micros` microseconds after 1970.
    public init(epochMicroseconds micros: Int64) {
        self.init(timeIntervalSince1970: TimeInterval(micros) / 1_000_000)
    }
}
