import EventLog
import Wire

/// Times as `--since` and `--until` take them: relative to now (a duration in
/// `Wire.DurationText`'s grammar, the rule files' too: `90s`, `30m`, `1h`, `2d`, `1w`, combined
/// as `1h30m`, a bare number of seconds; `now`), or absolute RFC 3339 (`2026-11-24T21:03:00Z`,
/// `2026-11-24T22:03:00+01:00`, `2026-11-24 21:03`, a bare date `2026-11-24`; without an
/// offset, UTC: the log's own zone).
public enum LogTime {
    /// Nanoseconds since the epoch for `text`, relative ones counted back from `now`
    /// (ns since the epoch); nil when `text` is neither form.
    public static func parse(_ text: String, now: UInt64) -> UInt64? {
        let trimmed = text.trimmingSpaces
        if trimmed == "now" { return now }
        if let duration = DurationText.nanoseconds(trimmed) {
            return now >= duration ? now - duration : 0
        }
        return EventTimestamp.parse(Array(trimmed.utf8))
    }
}

extension String {
    var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
