#if canImport(Glibc)
import Glibc
#endif
import EventLog
import Wire

/// Occurrences over time in fixed buckets, drawn as a bar chart. Counts records about
/// packets and `suppressed` records (each weighted by its `count`), placed by `timestamp`.
/// With a key (`--by reason`), each value of the key is a series of its own (the chart stacks
/// them, one mark each; JSON and CSV give a row per bucket and series).
public struct LogHistogram {
    /// The bucket width in nanoseconds (possibly widened, see ``widenedToFit(maxRows:)``).
    public private(set) var bucketNanoseconds: UInt64
    /// What the series are by; nil for one series.
    public let key: LogTopCounter.Key?
    private var counts: [UInt64: Int] = [:]
    private var seriesCounts: [String: [UInt64: Int]] = [:]
    /// Occurrences counted.
    public private(set) var total = 0
    /// Most series drawn; the smaller ones are summed as `other`.
    public static let maxSeries = 6
    /// The series of occurrences without the key (`suppressed` records carry no reason).
    public static let noValue = "(none)"

    /// Creates an empty histogram with buckets of `bucketNanoseconds` (at least 1 ms), one
    /// series per value of `key` when given.
    public init(bucketNanoseconds: UInt64, by key: LogTopCounter.Key? = nil) {
        self.bucketNanoseconds = max(1_000_000, bucketNanoseconds)
        self.key = key
    }

    /// Counts `event` in its bucket (and its series).
    public mutating func add(_ event: Event) {
        guard event.eventType.isAboutPackets || event.eventType == .suppressed else { return }
        let weight = max(1, event.count)
        let bucket = event.timestampNanoseconds / bucketNanoseconds
        counts[bucket, default: 0] += weight
        total += weight
        if let key {
            let name = event.eventType == .suppressed ? Self.noValue
                : LogTopCounter.name(of: event, by: key) ?? Self.noValue
            seriesCounts[name, default: [:]][bucket, default: 0] += weight
        }
    }

    /// The series, largest first (ties by name), at most ``maxSeries``: past that, the
    /// smaller ones are summed as a last series `other`. Each with its total; empty without a key.
    public var series: [(name: String, total: Int)] {
        let (kept, other) = keptSeries
        guard let other else { return kept }
        return kept + [(name: "other", total: other)]
    }

    /// The series shown by name, and the total of those summed as `other` (nil when none is).
    private var keptSeries: (kept: [(name: String, total: Int)], other: Int?) {
        var totals: [(name: String, total: Int)] = []
        for (name, buckets) in seriesCounts {
            var sum = 0
            for count in buckets.values { sum += count }
            totals.append((name, sum))
        }
        totals.sort { (a: (name: String, total: Int), b: (name: String, total: Int)) -> Bool in
            a.total != b.total ? a.total > b.total : a.name < b.name
        }
        guard totals.count > Self.maxSeries else { return (totals, nil) }
        var other = 0
        for entry in totals.dropFirst(Self.maxSeries - 1) { other += entry.total }
        return (Array(totals.prefix(Self.maxSeries - 1)), other)
    }

    /// Every bucket of the range with its count in each of ``series`` (same order).
    public var seriesBuckets: [(start: UInt64, counts: [Int])] {
        let (kept, other) = keptSeries
        return buckets.map { row in
            let bucket = row.start / bucketNanoseconds
            let values = kept.map { seriesCounts[$0.name]?[bucket] ?? 0 }
            return (row.start, values + (other == nil ? [] : [row.count - values.reduce(0, +)]))
        }
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
        var result = LogHistogram(bucketNanoseconds: bucketNanoseconds * factor, by: key)
        for (bucket, count) in counts {
            result.counts[bucket / factor, default: 0] += count
        }
        for (name, buckets) in seriesCounts {
            for (bucket, count) in buckets { result.seriesCounts[name, default: [:]][bucket / factor, default: 0] += count }
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
    /// characters when `unicode`, `#` otherwise; with `logScale`, bars proportional to
    /// log(1 + count)), or JSON Lines (`{"bucket":"…","count":N}`), or CSV (`bucket,count`).
    /// With series: a stacked bar, a legend, and rows `{"bucket":"…","reason":"…","count":N}` /
    /// `bucket,reason,count`.
    public func render(format: LogReviewOptions.Format, width: Int, unicode: Bool, color: Bool, logScale: Bool = false,
                       to output: LogTextOutput) {
        if let key {
            renderSeries(key: key, format: format, width: width, unicode: unicode, color: color, logScale: logScale,
                         to: output)
            return
        }
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
            let header = "occurrences per \(DurationText.format(nanoseconds: bucketNanoseconds)) (UTC); \(total) in all"
                + (logScale ? "; bars on a log scale" : "")
            output.line(color ? TerminalText.Color.dim.wrap(header) : header)
            let peak = rows.map(\.count).max() ?? 0
            let countWidth = String(peak).count
            let labelWidth = rows.first.map { label($0.start).count } ?? 0
            let barWidth = max(10, width - labelWidth - countWidth - 4)
            for row in rows {
                let bar = logScale ? Self.stackedBar([row.count], of: peak, width: barWidth, marks: [unicode ? "█" : "#"], logScale: true)
                    : Self.bar(row.count, of: peak, width: barWidth, unicode: unicode)
                let padded = TerminalText.pad(bar, to: barWidth)
                output.line(label(row.start) + "  " + (color ? TerminalText.Color.red.wrap(padded) : padded) + "  "
                    + TerminalText.pad(String(row.count), to: countWidth, alignRight: true))
            }
        }
        output.flush()
    }

    private func renderSeries(key: LogTopCounter.Key, format: LogReviewOptions.Format, width: Int, unicode: Bool,
                              color: Bool, logScale: Bool, to output: LogTextOutput) {
        let names = series.map(\.name)
        let rows = seriesBuckets
        switch format {
        case .json:
            for row in rows {
                let bucket = EventTimestamp.string(nanoseconds: row.start)
                for (name, count) in zip(names, row.counts) {
                    var line = Array("{\"bucket\":\"\(bucket)\",\"\(key.rawValue)\":".utf8)
                    JSONLinesEncoder.appendString(name, into: &line)
                    output.line(String(decoding: line, as: UTF8.self) + ",\"count\":\(count)}")
                }
            }
        case .csv:
            output.line("bucket,\(key.rawValue),count")
            for row in rows {
                let bucket = EventTimestamp.string(nanoseconds: row.start)
                for (name, count) in zip(names, row.counts) {
                    output.line("\(bucket),\(LogCSVFormatter.field(name)),\(count)")
                }
            }
        case .table:
            let marks = Array(unicode ? Self.unicodeMarks : Self.asciiMarks)
            let colors = Self.seriesColors
            func painted(_ text: String, _ index: Int) -> String {
                color ? colors[index % colors.count].wrap(text) : text
            }
            let header = "occurrences per \(DurationText.format(nanoseconds: bucketNanoseconds)) (UTC) by \(key.rawValue); "
                + "\(total) in all" + (logScale ? "; bars on a log scale" : "")
            output.line(color ? TerminalText.Color.dim.wrap(header) : header)
            let legend = series.enumerated().map { index, entry in
                painted(String(marks[index % marks.count]), index) + " " + TerminalText.sanitize(entry.name) + " \(entry.total)"
            }
            output.line(legend.joined(separator: "  "))
            let peak = rows.map { $0.counts.reduce(0, +) }.max() ?? 0
            let countWidth = String(peak).count
            let labelWidth = rows.first.map { label($0.start).count } ?? 0
            let barWidth = max(10, width - labelWidth - countWidth - 4)
            for row in rows {
                let lengths = Self.segmentLengths(row.counts, of: peak, width: barWidth, logScale: logScale)
                var bar = ""
                for (index, length) in lengths.enumerated() where length > 0 {
                    bar += painted(String(repeating: marks[index % marks.count], count: length), index)
                }
                let padding = String(repeating: " ", count: max(0, barWidth - lengths.reduce(0, +)))
                output.line(label(row.start) + "  " + bar + padding + "  "
                    + TerminalText.pad(String(row.counts.reduce(0, +)), to: countWidth, alignRight: true))
            }
        }
        output.flush()
    }

    /// One mark per series in the stacked bar (block shades on a terminal, characters otherwise).
    static let unicodeMarks: [Character] = ["█", "▓", "▒", "░", "▞", "▪"]
    static let asciiMarks: [Character] = ["#", "=", "+", "*", "o", "."]
    static let seriesColors: [TerminalText.Color] = [.red, .yellow, .cyan, .magenta, .green, .bold]

    /// Columns of each series' segment in a bar whose whole length is the row's total over
    /// `peak` (linear, or log(1 + n) with `logScale`) of `width`; a non-zero total always shows
    /// something, and the columns are shared out by largest remainder.
    public static func segmentLengths(_ counts: [Int], of peak: Int, width: Int, logScale: Bool) -> [Int] {
        let total = counts.reduce(0, +)
        guard peak > 0, total > 0 else { return counts.map { _ in 0 } }
        let share = logScale ? log1p(Double(total)) / log1p(Double(peak)) : Double(total) / Double(peak)
        let columns = max(1, Int((share * Double(width)).rounded()))
        let exact = counts.map { Double($0) / Double(total) * Double(columns) }
        var lengths = exact.map { Int($0) }
        var left = columns - lengths.reduce(0, +)
        for index in exact.indices.sorted(by: { exact[$0] - Double(lengths[$0]) > exact[$1] - Double(lengths[$1]) }) where left > 0 {
            lengths[index] += 1
            left -= 1
        }
        return lengths
    }

    /// A one-series bar through ``segmentLengths(_:of:width:logScale:)``.
    static func stackedBar(_ counts: [Int], of peak: Int, width: Int, marks: [Character], logScale: Bool) -> String {
        let lengths = segmentLengths(counts, of: peak, width: width, logScale: logScale)
        return lengths.enumerated().map { String(repeating: marks[$0.offset % marks.count], count: $0.element) }.joined()
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
