/// The event log's timestamp text: `2026-11-24T21:03:11.482113+0000` (UTC, microseconds,
/// truncated), as Suricata's EVE writes it. Pure arithmetic; no Foundation.
public enum EventTimestamp {
    /// Appends the text for `nanoseconds` since the Unix epoch (31 bytes, no quotes).
    public static func append(nanoseconds: UInt64, into buffer: inout [UInt8]) {
        let seconds = nanoseconds / 1_000_000_000
        let microseconds = (nanoseconds % 1_000_000_000) / 1000
        let date = civilDate(daysSinceEpoch: Int64(seconds / 86_400))
        let secondOfDay = seconds % 86_400
        appendDigits(UInt64(date.year), width: 4, into: &buffer)
        buffer.append(UInt8(ascii: "-"))
        appendDigits(UInt64(date.month), width: 2, into: &buffer)
        buffer.append(UInt8(ascii: "-"))
        appendDigits(UInt64(date.day), width: 2, into: &buffer)
        buffer.append(UInt8(ascii: "T"))
        appendDigits(secondOfDay / 3600, width: 2, into: &buffer)
        buffer.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay / 60 % 60, width: 2, into: &buffer)
        buffer.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay % 60, width: 2, into: &buffer)
        buffer.append(UInt8(ascii: "."))
        appendDigits(microseconds, width: 6, into: &buffer)
        buffer.append(contentsOf: utcOffset)
    }

    /// The text for `nanoseconds` since the Unix epoch, e.g. `1970-01-01T00:00:00.000000+0000`.
    public static func string(nanoseconds: UInt64) -> String {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(32)
        append(nanoseconds: nanoseconds, into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    /// The proleptic Gregorian date of a day counted from 1970-01-01 (day 0); negative days
    /// are before 1970. Howard Hinnant's `civil_from_days`: eras of 400 years (146,097 days)
    /// counted from 0000-03-01, so the leap day falls at the end of each computed year.
    public static func civilDate(daysSinceEpoch days: Int64) -> (year: Int64, month: Int, day: Int) {
        let z = days + 719_468  // days from 0000-03-01 to 1970-01-01
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097  // [0, 146096]
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365  // [0, 399]
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)  // [0, 365], from March 1
        let shiftedMonth = (5 * dayOfYear + 2) / 153  // [0, 11], March = 0
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1  // [1, 31]
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9  // [1, 12]
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, Int(month), Int(day))
    }

    private static let utcOffset: [UInt8] = Array("+0000".utf8)

    /// Appends `value` in decimal, left-padded with zeros to `width` digits (wider values keep
    /// all their digits).
    static func appendDigits(_ value: UInt64, width: Int, into buffer: inout [UInt8]) {
        let start = buffer.count
        var rest = value
        repeat {
            buffer.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        } while rest > 0
        while buffer.count - start < width {
            buffer.append(UInt8(ascii: "0"))
        }
        buffer[start...].reverse()
    }
}
