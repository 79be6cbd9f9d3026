import EventLog
import Testing

@Suite struct EventTimestampTests {
    @Test(arguments: [
        (UInt64(0), "1970-01-01T00:00:00.000000+0000"),
        (1_795_554_191_482_113_000, "2026-11-24T21:03:11.482113+0000"),
        (1_795_554_191_482_113_999, "2026-11-24T21:03:11.482113+0000"),  // truncated, not rounded
        (1_709_164_800_000_000_000, "2024-02-29T00:00:00.000000+0000"),  // leap day
        (1_709_251_199_999_999_000, "2024-02-29T23:59:59.999999+0000"),
        (1_709_251_200_000_000_000, "2024-03-01T00:00:00.000000+0000"),
        (946_684_799_000_001_000, "1999-12-31T23:59:59.000001+0000"),
        (951_868_800_000_000_000, "2000-03-01T00:00:00.000000+0000"),  // 2000 is a leap year (÷400)
        (4_107_542_400_000_000_000, "2100-03-01T00:00:00.000000+0000"),  // 2100 is not (÷100)
        (2_147_483_648_000_000_000, "2038-01-19T03:14:08.000000+0000"),  // past 32-bit time_t
        (13_574_606_400_000_000_000, "2400-02-29T12:00:00.000000+0000"),
        (UInt64.max, "2554-07-21T23:34:33.709551+0000"),
    ])
    func formats(nanoseconds: UInt64, expected: String) {
        #expect(EventTimestamp.string(nanoseconds: nanoseconds) == expected)
    }

    @Test func appendsWithoutTouchingWhatIsThere() {
        var buffer: [UInt8] = Array("x".utf8)
        EventTimestamp.append(nanoseconds: 1_000, into: &buffer)
        #expect(String(decoding: buffer, as: UTF8.self) == "x1970-01-01T00:00:00.000001+0000")
    }

    @Test func civilDateAroundTheEpochAndLeapYears() {
        #expect(EventTimestamp.civilDate(daysSinceEpoch: 0) == (1970, 1, 1))
        #expect(EventTimestamp.civilDate(daysSinceEpoch: -1) == (1969, 12, 31))
        #expect(EventTimestamp.civilDate(daysSinceEpoch: 59) == (1970, 3, 1))
        #expect(EventTimestamp.civilDate(daysSinceEpoch: 19_782) == (2024, 2, 29))
        #expect(EventTimestamp.civilDate(daysSinceEpoch: -719_468) == (0, 3, 1))
    }

    /// Every day from 1970 to 2100 follows the previous one: the day-of-month advances by one or
    /// restarts at 1 at a month end whose length matches the Gregorian calendar.
    @Test func consecutiveDaysAreConsistent() {
        func daysIn(_ month: Int, _ year: Int64) -> Int {
            switch month {
            case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
            case 4, 6, 9, 11: return 30
            default: return 31
            }
        }
        var previous = EventTimestamp.civilDate(daysSinceEpoch: 0)
        var mismatches = 0
        for day in Int64(1)...47_846 {  // through 2100-12-31
            let date = EventTimestamp.civilDate(daysSinceEpoch: day)
            let ok: Bool
            if previous.day < daysIn(previous.month, previous.year) {
                ok = date == (previous.year, previous.month, previous.day + 1)
            } else if previous.month < 12 {
                ok = date == (previous.year, previous.month + 1, 1)
            } else {
                ok = date == (previous.year + 1, 1, 1)
            }
            if !ok { mismatches += 1 }
            previous = date
        }
        #expect(mismatches == 0)
        #expect(previous == (2100, 12, 31))
    }
}
