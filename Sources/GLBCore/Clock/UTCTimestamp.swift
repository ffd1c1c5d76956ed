/// RFC 3339 timestamps in UTC ("2027-02-24T20:10:32Z") from seconds since the Unix epoch.
///
/// Written here rather than with Foundation's `ISO8601DateFormatter`: that class lives in the
/// full Foundation, whose ICU data made the static `glb` binary 80 MB and its idle resident set
/// several megabytes larger (the 20 MB idle budget). The date is Howard Hinnant's
/// `civil_from_days` (proleptic Gregorian calendar). Instants are clamped to years 0000-9999,
/// the range RFC 3339 (and X.509's GeneralizedTime, where they come from) can write.
package enum UTCTimestamp {
    /// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z.
    static let range: ClosedRange<Int64> = -62_167_219_200 ... 253_402_300_799

    package static func format(secondsSinceEpoch unclamped: Int64) -> String {
        let seconds = min(max(unclamped, range.lowerBound), range.upperBound)
        let days = floorDivide(seconds, 86_400)
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civil(fromDays: days)
        return pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2) + "T"
            + pad(secondOfDay / 3600, 2) + ":" + pad(secondOfDay / 60 % 60, 2) + ":" + pad(secondOfDay % 60, 2) + "Z"
    }

    /// Year, month (1-12) and day (1-31) of the day `days` after 1970-01-01.
    package static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468                          // days since 0000-03-01
        let era = floorDivide(z, 146_097)               // 400-year eras
        let dayOfEra = z - era * 146_097                // [0, 146096]
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)   // from March 1
        let shiftedMonth = (5 * dayOfYear + 2) / 153    // 0 = March
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        a >= 0 ? a / b : (a - b + 1) / b
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
