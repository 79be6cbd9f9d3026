/// Times as `--since` and `--until` take them: relative to now (`90s`, `30m`, `1h`, `2d`,
/// `1w`, combined as `1h30m`; `now`), or absolute RFC 3339 (`2026-11-24T21:03:00Z`,
/// `2026-11-24T22:03:00+01:00`, `2026-11-24 21:03`, a bare date `2026-11-24`; without an
/// offset, UTC: the log's own zone).
public enum LogTime {
    /// Nanoseconds since the epoch for `text`, relative ones counted back from `now`
    /// (ns since the epoch); nil when `text` is neither form.
    public static func parse(_ text: String, now: UInt64) -> UInt64? {
        let trimmed = text.trimmingSpaces
        if trimmed == "now" { return now }
        if let duration = parseDuration(trimmed) {
            return now >= duration ? now - duration : 0
        }
        return EventTimestamp.parse(Array(trimmed.utf8))
    }

    /// A duration such as `30m`, `1h30m`, `2d`, `500ms` in nanoseconds; nil otherwise.
    /// Units: `ms`, `s`, `m`, `h`, `d`, `w`.
    public static func parseDuration(_ text: String) -> UInt64? {
        var total: UInt64 = 0
        var number: UInt64?
        var any = false
        var index = text.utf8.startIndex
        let bytes = text.utf8
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                let (times10, overflow1) = (number ?? 0).multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
                guard !overflow1, !overflow2 else { return nil }
                number = sum
                index = bytes.index(after: index)
                continue
            }
            guard let value = number else { return nil }
            let unit: UInt64
            let next = bytes.index(after: index)
            if byte == UInt8(ascii: "m"), next < bytes.endIndex, bytes[next] == UInt8(ascii: "s") {
                unit = 1_000_000
                index = bytes.index(after: next)
            } else {
                switch byte {
                case UInt8(ascii: "s"): unit = 1_000_000_000
                case UInt8(ascii: "m"): unit = 60_000_000_000
                case UInt8(ascii: "h"): unit = 3_600_000_000_000
                case UInt8(ascii: "d"): unit = 86_400_000_000_000
                case UInt8(ascii: "w"): unit = 604_800_000_000_000
                default: return nil
                }
                index = next
            }
            let (part, overflow1) = value.multipliedReportingOverflow(by: unit)
            let (sum, overflow2) = total.addingReportingOverflow(part)
            guard !overflow1, !overflow2 else { return nil }
            total = sum
            number = nil
            any = true
        }
        guard any, number == nil else { return nil }
        return total
    }
}

extension String {
    var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}

extension LogTime {
    /// A duration in the units ``parseDuration(_:)`` reads, largest whole unit first:
    /// `1m`, `90s`, `1h30m`, `2d`, `500ms`.
    public static func formatDuration(_ nanoseconds: UInt64) -> String {
        if nanoseconds == 0 { return "0s" }
        let units: [(UInt64, String)] = [(604_800_000_000_000, "w"), (86_400_000_000_000, "d"), (3_600_000_000_000, "h"),
                                         (60_000_000_000, "m"), (1_000_000_000, "s"), (1_000_000, "ms")]
        var rest = nanoseconds
        var text = ""
        for (size, name) in units where rest >= size {
            text += "\(rest / size)\(name)"
            rest %= size
        }
        return text.isEmpty ? "\(nanoseconds)ns" : text
    }
}
