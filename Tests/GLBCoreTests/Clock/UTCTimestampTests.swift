import GLBCore
import Testing

@Suite struct UTCTimestampTests {
    @Test(arguments: [
        (Int64(0), "1970-01-01T00:00:00Z"),
        (-1, "1969-12-31T23:59:59Z"),
        (951_782_400, "2000-02-29T00:00:00Z"),             // a leap day in a year divisible by 400
        (951_868_799, "2000-02-29T23:59:59Z"),
        (4_107_542_400, "2100-03-01T00:00:00Z"),           // 2100 is not a leap year
        (1_803_154_232, "2027-02-20T20:10:32Z"),
        (1_798_761_599, "2026-12-31T23:59:59Z"),
        (253_402_300_799, "9999-12-31T23:59:59Z"),
        (-62_135_596_800, "0001-01-01T00:00:00Z"),
        (-62_167_219_200, "0000-01-01T00:00:00Z"),
        (Int64.min, "0000-01-01T00:00:00Z"),               // clamped to what RFC 3339 can write
        (Int64.max, "9999-12-31T23:59:59Z"),
    ])
    func formatsKnownInstants(seconds: Int64, text: String) {
        #expect(UTCTimestamp.format(secondsSinceEpoch: seconds) == text)
    }

    /// Every day for 800 years steps the calendar by exactly one day: months end where they
    /// should, and February has 29 days exactly in the Gregorian leap years.
    @Test func consecutiveDaysAreConsecutiveDates() {
        let monthLength: [Int64] = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        var (year, month, day): (Int64, Int64, Int64) = (1800, 1, 1)
        let start: Int64 = -62_091                         // 1800-01-01
        for days in start..<(start + 800 * 366) {
            let civil = UTCTimestamp.civil(fromDays: days)
            #expect(civil == (year, month, day), "day \(days)")
            if civil != (year, month, day) { return }
            let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
            let length = month == 2 && leap ? 29 : monthLength[Int(month - 1)]
            day += 1
            if day > length { day = 1; month += 1 }
            if month > 12 { month = 1; year += 1 }
        }
    }
}
