/// Durations as people write them, in rule files (`set timeout tcp.established 1w`, `expire
/// 1h`) and on the command line (`synwall log --since 1h30m`, `--bucket 5m`, `table add
/// --expire 2d`): one grammar for all of them.
///
/// The grammar: one or more terms, each a decimal number followed by a unit, `ms`, `s`, `m`,
/// `h`, `d` or `w` (`90s`, `1h30m`, `500ms`, `1w`); the last term may leave its unit out and
/// then counts seconds (`90`, `1h30`). No signs, no fractions, no spaces; at least one digit.
public enum DurationText {
    /// The units a term may carry, largest first, with their length in nanoseconds.
    public static let units: [(name: String, nanoseconds: UInt64)] = [
        ("w", 604_800_000_000_000), ("d", 86_400_000_000_000), ("h", 3_600_000_000_000),
        ("m", 60_000_000_000), ("s", 1_000_000_000), ("ms", 1_000_000),
    ]

    /// A short hint for error messages that name this grammar.
    public static let hint = "write a number of seconds, or with a unit: 500ms, 30s, 5m, 2h, 1d, 1w (combined: 1h30m)"

    /// `text` in nanoseconds; nil when it does not follow the grammar or does not fit in 64 bits.
    public static func nanoseconds(_ text: String) -> UInt64? {
        var total: UInt64 = 0
        var number: UInt64?
        let bytes = Array(text.utf8)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                let (times10, overflow1) = (number ?? 0).multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
                guard !overflow1, !overflow2 else { return nil }
                number = sum
                index += 1
                continue
            }
            guard let value = number else { return nil }
            let unit: UInt64
            if byte == UInt8(ascii: "m"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "s") {
                unit = 1_000_000
                index += 2
            } else {
                switch byte {
                case UInt8(ascii: "s"): unit = 1_000_000_000
                case UInt8(ascii: "m"): unit = 60_000_000_000
                case UInt8(ascii: "h"): unit = 3_600_000_000_000
                case UInt8(ascii: "d"): unit = 86_400_000_000_000
                case UInt8(ascii: "w"): unit = 604_800_000_000_000
                default: return nil
                }
                index += 1
            }
            guard let sum = add(value, times: unit, to: total) else { return nil }
            total = sum
            number = nil
        }
        // A trailing number without a unit counts seconds; an empty text is no duration.
        if let value = number {
            guard let sum = add(value, times: 1_000_000_000, to: total) else { return nil }
            return sum
        }
        return bytes.isEmpty ? nil : total
    }

    /// `text` as a `Duration`; nil as for ``nanoseconds(_:)``.
    public static func duration(_ text: String) -> Duration? {
        nanoseconds(text).map { Duration.nanoseconds(Int64(clamping: $0)) }
    }

    /// `nanoseconds` in the units this grammar reads, largest whole unit first: `1m30s`, `2d`,
    /// `500ms`; `0s` for zero, `Nns` below a millisecond. Reading the text back gives the value
    /// whenever it is a whole number of milliseconds.
    public static func format(nanoseconds: UInt64) -> String {
        if nanoseconds == 0 { return "0s" }
        var rest = nanoseconds
        var text = ""
        for (name, size) in units where rest >= size {
            text += "\(rest / size)\(name)"
            rest %= size
        }
        return text.isEmpty ? "\(nanoseconds)ns" : text
    }

    private static func add(_ value: UInt64, times unit: UInt64, to total: UInt64) -> UInt64? {
        let (part, overflow1) = value.multipliedReportingOverflow(by: unit)
        let (sum, overflow2) = total.addingReportingOverflow(part)
        return overflow1 || overflow2 ? nil : sum
    }
}
