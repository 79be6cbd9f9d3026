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

extension EventTimestamp {
    /// Parses RFC 3339 text as the log writes it and as people type it, to nanoseconds since
    /// the Unix epoch: `2026-11-24T21:03:11.482113+0000`, `…Z`, `…+01:00`, a space instead of
    /// `T`, any number of fraction digits (beyond nanoseconds ignored), seconds optional
    /// (`2026-11-24T21:03Z`). Without an offset the time is UTC. A date alone
    /// (`2026-11-24`) is its midnight, UTC. Nil when the text is not such a time or is
    /// before 1970.
    public static func parse(_ text: some Collection<UInt8>) -> UInt64? {
        Array(text).withUnsafeBufferPointer { parse($0) }
    }

    /// Parses a timestamp from raw bytes; see ``parse(_:)``.
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64? {
        var reader = DigitReader(bytes)
        return reader.timestamp()
    }

    /// Days from 1970-01-01 to the given proleptic Gregorian date (Howard Hinnant's
    /// `days_from_civil`, the inverse of ``civilDate(daysSinceEpoch:)``).
    public static func daysSinceEpoch(year: Int64, month: Int, day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400  // [0, 399]
        let shiftedMonth = Int64(month > 2 ? month - 3 : month + 9)  // March = 0
        let dayOfYear = (153 * shiftedMonth + 2) / 5 + Int64(day) - 1  // [0, 365]
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear  // [0, 146096]
        return era * 146_097 + dayOfEra - 719_468
    }
}

/// Reads fixed-width decimal fields from bytes, for ``EventTimestamp/parse(_:)``.
private struct DigitReader {
    let bytes: UnsafeBufferPointer<UInt8>
    let count: Int
    var position = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        count = bytes.count
    }

    @inline(__always)
    func byteAt(_ index: Int) -> UInt8 { bytes[index] }

    var atEnd: Bool { position >= count }

    mutating func digits(_ width: Int) -> Int64? {
        guard position + width <= count else { return nil }
        var value: Int64 = 0
        for _ in 0..<width {
            let byte = byteAt(position)
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            position += 1
        }
        return value
    }

    mutating func skip(_ byte: UInt8) -> Bool {
        guard position < count, byteAt(position) == byte else { return false }
        position += 1
        return true
    }

    mutating func timestamp() -> UInt64? {
        guard let year = digits(4), skip(UInt8(ascii: "-")), let month = digits(2), skip(UInt8(ascii: "-")),
              let day = digits(2), (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var seconds = EventTimestamp.daysSinceEpoch(year: year, month: Int(month), day: Int(day)) * 86_400
        var nanoseconds: Int64 = 0
        if !atEnd {
            guard skip(UInt8(ascii: "T")) || skip(UInt8(ascii: "t")) || skip(UInt8(ascii: " ")),
                  let hour = digits(2), skip(UInt8(ascii: ":")), let minute = digits(2),
                  hour < 24, minute < 60
            else { return nil }
            var second: Int64 = 0
            if skip(UInt8(ascii: ":")) {
                guard let value = digits(2), value <= 60 else { return nil }
                second = value
                if skip(UInt8(ascii: ".")) || skip(UInt8(ascii: ",")) {
                    var scale: Int64 = 100_000_000
                    var any = false
                    while !atEnd, byteAt(position) >= UInt8(ascii: "0"), byteAt(position) <= UInt8(ascii: "9") {
                        nanoseconds += Int64(byteAt(position) - UInt8(ascii: "0")) * scale
                        scale /= 10
                        position += 1
                        any = true
                    }
                    guard any else { return nil }
                }
            }
            seconds += hour * 3600 + minute * 60 + second
            if !atEnd {
                if skip(UInt8(ascii: "Z")) || skip(UInt8(ascii: "z")) {
                    // UTC
                } else {
                    let sign: Int64
                    if skip(UInt8(ascii: "+")) {
                        sign = 1
                    } else if skip(UInt8(ascii: "-")) {
                        sign = -1
                    } else {
                        return nil
                    }
                    guard let offsetHours = digits(2) else { return nil }
                    _ = skip(UInt8(ascii: ":"))
                    guard let offsetMinutes = digits(2), offsetHours < 24, offsetMinutes < 60 else { return nil }
                    seconds -= sign * (offsetHours * 3600 + offsetMinutes * 60)
                }
            }
        }
        guard atEnd, seconds >= 0, seconds < Int64(UInt64.max / 1_000_000_000) else { return nil }
        return UInt64(seconds) * 1_000_000_000 + UInt64(nanoseconds)
    }
}

extension EventTimestamp {
    /// Shorter text for people: `2026-11-24 21:03:11.482` (UTC), with `fractionDigits` (0, 3
    /// or 6) after the seconds; 0 leaves the fraction out. `seconds: false` stops at minutes.
    public static func displayText(nanoseconds: UInt64, fractionDigits: Int = 3, seconds: Bool = true,
                                   time: Bool = true) -> String {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(32)
        let totalSeconds = nanoseconds / 1_000_000_000
        let date = civilDate(daysSinceEpoch: Int64(totalSeconds / 86_400))
        let secondOfDay = totalSeconds % 86_400
        appendDigits(UInt64(date.year), width: 4, into: &buffer)
        buffer.append(UInt8(ascii: "-"))
        appendDigits(UInt64(date.month), width: 2, into: &buffer)
        buffer.append(UInt8(ascii: "-"))
        appendDigits(UInt64(date.day), width: 2, into: &buffer)
        if time {
            buffer.append(UInt8(ascii: " "))
            appendDigits(secondOfDay / 3600, width: 2, into: &buffer)
            buffer.append(UInt8(ascii: ":"))
            appendDigits(secondOfDay / 60 % 60, width: 2, into: &buffer)
            if seconds {
                buffer.append(UInt8(ascii: ":"))
                appendDigits(secondOfDay % 60, width: 2, into: &buffer)
                if fractionDigits > 0 {
                    let digits = min(9, fractionDigits)
                    var divisor: UInt64 = 1
                    for _ in 0..<(9 - digits) { divisor *= 10 }
                    buffer.append(UInt8(ascii: "."))
                    appendDigits(nanoseconds % 1_000_000_000 / divisor, width: digits, into: &buffer)
                }
            }
        }
        return String(decoding: buffer, as: UTF8.self)
    }
}
