/// Occurrences over time in fixed buckets, drawn as a bar chart. Counts records about
/// packets and `suppressed` records (each weighted by its `count`), placed by `timestamp`.
public struct LogHistogram {
    /// The bucket width in nanoseconds (possibly widened, see ``widenedToFit(maxRows:)``).
    public private(set) var bucketNanoseconds: UInt64
    private var counts: [UInt64: Int] = [:]
    /// Occurrences counted.
    public private(set) var total = 0

    /// Creates an empty histogram with buckets of `bucketNanoseconds` (at least 1 ms).
    public init(bucketNanoseconds: UInt64) {
        self.bucketNanoseconds = max(1_000_000, bucketNanoseconds)
    }

    /// Counts `event` in its bucket.
    public mutating func add(_ event: Event) {
        guard event.eventType.isAboutPackets || event.eventType == .suppressed else { return }
        let weight = max(1, event.count)
        counts[event.timestampNanoseconds / bucketNanoseconds, default: 0] += weight
        total += weight
    }

    /// Every bucket from the first with a count to the last, empty ones included.
    public var buckets: [(start: UInt64, count: Int)] {
        guard let first = counts.keys.min(), let last = counts.keys.max() else { return [] }
        return (first...last).map { ($0 * bucketNanoseconds, counts[$0] ?? 0) }
    }

    /// Rows the chart would have.
    public var rowCount: Int {
        guard let first = counts.keys.min(), let last = counts.keys.max() else { return 0 }
        return Int(last - first) + 1
    }

    /// This histogram with buckets a whole multiple wider (2×, 5×, 10×, 15×, 30×, 60×, …) when
    /// it has more than `maxRows` rows; unchanged otherwise.
    public func widenedToFit(maxRows: Int) -> LogHistogram {
        guard rowCount > maxRows else { return self }
        let factors: [UInt64] = [2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080]
        var factor: UInt64 = 1
        for candidate in factors {
            factor = candidate
            if widened(by: candidate).rowCount <= maxRows { return widened(by: candidate) }
        }
        var result = widened(by: factor)
        while result.rowCount > maxRows {
            result = result.widened(by: 2)
        }
        return result
    }

    private func widened(by factor: UInt64) -> LogHistogram {
        var result = LogHistogram(bucketNanoseconds: bucketNanoseconds * factor)
        for (bucket, count) in counts {
            result.counts[bucket / factor, default: 0] += count
        }
        result.total = total
        return result
    }

    /// The label of a bucket: the date for buckets of a day or more, minutes for a minute or
    /// more, seconds below.
    func label(_ start: UInt64) -> String {
        if bucketNanoseconds >= 86_400_000_000_000 && bucketNanoseconds % 86_400_000_000_000 == 0 {
            return EventTimestamp.displayText(nanoseconds: start, time: false)
        }
        if bucketNanoseconds >= 60_000_000_000 && bucketNanoseconds % 60_000_000_000 == 0 {
            return EventTimestamp.displayText(nanoseconds: start, seconds: false)
        }
        if bucketNanoseconds % 1_000_000_000 == 0 {
            return EventTimestamp.displayText(nanoseconds: start, fractionDigits: 0)
        }
        return EventTimestamp.displayText(nanoseconds: start, fractionDigits: 3)
    }

    /// Writes the chart (table format: one bar per bucket, `width` columns in all, block
    /// characters when `unicode`, `#` otherwise), or JSON Lines (`{"bucket":"…","count":N}`),
    /// or CSV (`bucket,count`).
    public func render(format: LogReviewOptions.Format, width: Int, unicode: Bool, color: Bool, to output: LogTextOutput) {
        let rows = buckets
        switch format {
        case .json:
            for row in rows {
                output.line("{\"bucket\":\"\(EventTimestamp.string(nanoseconds: row.start))\",\"count\":\(row.count)}")
            }
        case .csv:
            output.line("bucket,count")
            for row in rows {
                output.line("\(EventTimestamp.string(nanoseconds: row.start)),\(row.count)")
            }
        case .table:
            let header = "occurrences per \(LogTime.formatDuration(bucketNanoseconds)) (UTC); \(total) in all"
            output.line(color ? TerminalText.Color.dim.wrap(header) : header)
            let peak = rows.map(\.count).max() ?? 0
            let countWidth = String(peak).count
            let labelWidth = rows.first.map { label($0.start).count } ?? 0
            let barWidth = max(10, width - labelWidth - countWidth - 4)
            for row in rows {
                let bar = Self.bar(row.count, of: peak, width: barWidth, unicode: unicode)
                let padded = TerminalText.pad(bar, to: barWidth)
                output.line(label(row.start) + "  " + (color ? TerminalText.Color.red.wrap(padded) : padded) + "  "
                    + TerminalText.pad(String(row.count), to: countWidth, alignRight: true))
            }
        }
        output.flush()
    }

    /// A bar of `value / peak` of `width` columns; a non-zero value always shows something.
    static func bar(_ value: Int, of peak: Int, width: Int, unicode: Bool) -> String {
        guard peak > 0, value > 0 else { return "" }
        let eighths = max(1, Int((Double(value) / Double(peak) * Double(width * 8)).rounded()))
        if !unicode {
            return String(repeating: "#", count: max(1, (eighths + 4) / 8))
        }
        let partials = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"]
        return String(repeating: "█", count: eighths / 8) + partials[eighths % 8]
    }
}
