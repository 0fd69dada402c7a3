import DocketCore
import Foundation
import Testing

@Suite("Timestamp")
struct TimestampTests {
    @Test("format agrees with Foundation's ISO 8601 formatter across the years 1970-9999, and round-trips through parse")
    func formatMatchesFoundation() {
        let reference = ISO8601DateFormatter()
        reference.formatOptions = [.withInternetDateTime]
        var generator = SystemRandomNumberGenerator()
        var dates = [Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 1_795_000_000.999),
                     Date(timeIntervalSince1970: 951_782_400), Date(timeIntervalSince1970: 253_402_300_799)]  // 2000-02-29, 9999-12-31T23:59:59Z
        for _ in 0..<2_000 { dates.append(Date(timeIntervalSince1970: Double(Int64.random(in: 0...253_402_300_799, using: &generator)))) }
        for date in dates {
            let text = Timestamp.format(date)
            #expect(text == reference.string(from: date), "\(date.timeIntervalSince1970)")
            #expect(Timestamp.parse(text) == Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down)))
        }
        #expect(Timestamp.format(Date(timeIntervalSince1970: 1_795_000_000)) == "2026-11-18T11:06:40Z")
    }
}
