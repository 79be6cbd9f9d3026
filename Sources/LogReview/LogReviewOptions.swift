/// What `synwall log` was asked to do; ``LogReview`` does it.
public struct LogReviewOptions: Sendable, Equatable {
    /// How records (or the top list, or the histogram) are written.
    public enum Format: String, Sendable, CaseIterable {
        /// An aligned table for people (the default on a terminal).
        case table
        /// JSON Lines: records exactly as in the file, for jq.
        case json
        /// CSV with a header line.
        case csv
    }

    /// What is written.
    public enum Mode: Sendable, Equatable {
        /// The matching records.
        case records
        /// The `limit` most frequent values of a key.
        case top(LogTopCounter.Key, limit: Int)
        /// Occurrences over time, in buckets of `bucketNanoseconds`.
        case histogram(bucketNanoseconds: UInt64)
    }

    /// The log files (each read with its rotations).
    public var paths: [String]
    /// Which records.
    public var query: LogQuery
    /// The output format.
    public var format: Format
    /// Records, top list or histogram.
    public var mode: Mode
    /// Keep reading as the (first) file grows, across rotations, until stopped.
    public var follow: Bool
    /// ANSI colours (only for a terminal).
    public var color: Bool
    /// Unicode block characters in the histogram (a terminal); `#` otherwise.
    public var unicode: Bool
    /// Columns available for the histogram.
    public var terminalWidth: Int
    /// How often `follow` looks for new lines, in nanoseconds (bounded: 10 ms to 10 s).
    public var followIntervalNanoseconds: UInt64
    /// Warnings shown per file before the rest are only counted.
    public var maxWarningsPerFile: Int
    /// Rows the histogram may have before its buckets are widened.
    public var maxHistogramRows: Int
    /// One histogram series per value of this key (`--by reason`); nil: one series.
    public var histogramBy: LogTopCounter.Key?
    /// Bars proportional to log(1 + count), so that small series stay visible next to a flood.
    public var histogramLogScale: Bool

    /// The default log file.
    public static let defaultPath = "/var/log/synwall/events.jsonl"

    /// Creates options; the defaults read the default log as a plain table.
    public init(paths: [String] = [LogReviewOptions.defaultPath], query: LogQuery = LogQuery(), format: Format = .table,
                mode: Mode = .records, follow: Bool = false, color: Bool = false, unicode: Bool = false,
                terminalWidth: Int = 80, followIntervalNanoseconds: UInt64 = 250_000_000, maxWarningsPerFile: Int = 20,
                maxHistogramRows: Int = 500, histogramBy: LogTopCounter.Key? = nil, histogramLogScale: Bool = false) {
        self.histogramBy = histogramBy
        self.histogramLogScale = histogramLogScale
        self.paths = paths
        self.query = query
        self.format = format
        self.mode = mode
        self.follow = follow
        self.color = color
        self.unicode = unicode
        self.terminalWidth = terminalWidth
        self.followIntervalNanoseconds = min(10_000_000_000, max(10_000_000, followIntervalNanoseconds))
        self.maxWarningsPerFile = maxWarningsPerFile
        self.maxHistogramRows = max(10, maxHistogramRows)
    }
}
