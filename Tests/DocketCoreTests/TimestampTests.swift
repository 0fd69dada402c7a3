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

    @Test("withUTF8 hands over the bytes format writes, beyond the years 0-9999 too")
    func withUTF8MatchesFormat() {
        var generator = SystemRandomNumberGenerator()
        // Before year 0 and after 9999 the digits are not written by hand.
        var dates = [Date(timeIntervalSince1970: -62_167_219_200), Date(timeIntervalSince1970: -62_167_219_201),
                     Date(timeIntervalSince1970: 253_402_300_800), Date(timeIntervalSince1970: -1.5)]
        for _ in 0..<500 { dates.append(Date(timeIntervalSince1970: Double(Int64.random(in: -70_000_000_000...260_000_000_000, using: &generator)))) }
        for date in dates {
            let bytes = Timestamp.withUTF8(date) { Array($0) }
            #expect(bytes == Array(Timestamp.format(date).utf8), "\(date.timeIntervalSince1970)")
        }
        #expect(Timestamp.withUTF8(Date(timeIntervalSince1970: 1_795_000_000)) { String(decoding: $0, as: UTF8.self) } == "2026-11-18T11:06:40Z")
        // The last second of year -1: written by String(format:), not by hand.
        #expect(Timestamp.withUTF8(Date(timeIntervalSince1970: -62_167_219_201)) { String(decoding: $0, as: UTF8.self) }.hasSuffix("-12-31T23:59:59Z"))
    }
}
