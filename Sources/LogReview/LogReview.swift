#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import EventLog
import Wire

/// `synwall log` without the argument parsing: reads the files, filters, and writes records,
/// a top list or a histogram; follows the log when asked. The CLI and the tests drive it.
public struct LogReview {
    /// What the review did.
    public struct Summary: Sendable, Equatable {
        /// Records read (after skipping malformed lines).
        public var read = 0
        /// Records that matched the query.
        public var matched = 0
        /// Warnings (malformed lines, unreadable files), shown or not.
        public var warnings = 0

        /// Creates a summary.
        public init(read: Int = 0, matched: Int = 0, warnings: Int = 0) {
            self.read = read
            self.matched = matched
            self.warnings = warnings
        }
    }

    /// The options in force.
    public let options: LogReviewOptions

    /// Creates a review.
    public init(options: LogReviewOptions) {
        self.options = options
    }

    /// Runs the review.
    ///
    /// - Parameters:
    ///   - output: where records go.
    ///   - warn: told each warning's text (`FILE:LINE: …`), up to the per-file limit, then
    ///     once per file how many more there were.
    ///   - shouldStop: polled between reads while following (and between records otherwise);
    ///     return true to end.
    /// - Throws: ``LogReadError`` when a file given does not exist (and has no rotations).
    @discardableResult
    public func run(output: LogTextOutput, warn: @escaping (String) -> Void,
                    shouldStop: () -> Bool = { false }) throws(LogReadError) -> Summary {
        let warnings = WarningLimiter(limit: options.maxWarningsPerFile, warn: warn)
        var summary = Summary()
        var sink = RecordSink(options: options, output: output)

        if options.follow {
            let path = options.paths.first ?? LogReviewOptions.defaultPath
            if options.query.since != nil {
                // History first (the rotations), then the current file from its start.
                let history = LogReader.namesARotation(path) ? [] : LogReader.rotations(of: path)
                if !history.isEmpty {
                    let stream = LogFileStream(files: history, keepLines: options.format == .json, query: options.query,
                                               warn: { warnings.add($0) })
                    while let entry = stream.next() {
                        summary.matched += 1
                        sink.add(entry)
                    }
                    summary.read += stream.recordsRead
                }
            }
            let follower = LogFollower(path: path, fromStart: options.query.since != nil,
                                       keepLines: options.format == .json, query: options.query)
            if !LogReader.exists(path) {
                warn("\(path): does not exist yet; waiting for it")
            }
            while !shouldStop() {
                let read = follower.poll(warning: { warnings.add($0) }) { entry in
                    summary.matched += 1
                    sink.add(entry)
                }
                summary.read += read
                sink.flush()
                if read == 0 {
                    Self.sleep(nanoseconds: options.followIntervalNanoseconds)
                }
            }
        } else {
            let reader = try LogReader(paths: options.paths)
            summary.read = reader.read(query: options.query, keepLines: options.format == .json && options.mode == .records,
                                       warning: { warnings.add($0) }) { entry in
                summary.matched += 1
                sink.add(entry)
                return summary.matched % 4096 != 0 || !shouldStop()
            }
        }
        sink.finish(warn: warn)
        warnings.finish()
        summary.warnings = warnings.total
        return summary
    }

    static func sleep(nanoseconds: UInt64) {
        var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
        var remaining = timespec()
        _ = nanosleep(&request, &remaining)
    }
}

extension LogReview {
    /// Where matching records go, by mode and format.
    struct RecordSink {
        let options: LogReviewOptions
        let output: LogTextOutput
        var table: LogTableFormatter?
        var csv: LogCSVFormatter?
        var top: LogTopCounter?
        var histogram: LogHistogram?
        let encoder = JSONLinesEncoder()

        init(options: LogReviewOptions, output: LogTextOutput) {
            self.options = options
            self.output = output
            switch options.mode {
            case .records:
                switch options.format {
                case .table: table = LogTableFormatter(output: output, color: options.color)
                case .csv: csv = LogCSVFormatter(output: output)
                case .json: break
                }
            case let .top(key, _):
                top = LogTopCounter(key: key)
            case let .histogram(bucket):
                histogram = LogHistogram(bucketNanoseconds: bucket, by: options.histogramBy)
            }
        }

        mutating func add(_ entry: LogEntry) {
            if let table {
                table.add(entry.event)
            } else if let csv {
                csv.add(entry.event)
            } else if top != nil {
                top?.add(entry.event)
            } else if histogram != nil {
                histogram?.add(entry.event)
            } else if let line = entry.line {
                output.line(line)
            } else {
                output.line(String(encoder.line(for: entry.event).dropLast()))
            }
        }

        /// Writes out what is pending (while following).
        func flush() {
            table?.flush()
            output.flush()
        }

        func finish(warn: (String) -> Void) {
            if let top, case let .top(_, limit) = options.mode {
                top.render(limit: limit, format: options.format, color: options.color, to: output)
            }
            if let histogram {
                let fitted = histogram.widenedToFit(maxRows: options.maxHistogramRows)
                if fitted.bucketNanoseconds != histogram.bucketNanoseconds {
                    warn("buckets widened from \(DurationText.format(nanoseconds: histogram.bucketNanoseconds)) to "
                        + "\(DurationText.format(nanoseconds: fitted.bucketNanoseconds)) to fit \(options.maxHistogramRows) rows; "
                        + "narrow the time with --since/--until or choose --bucket")
                }
                fitted.render(format: options.format, width: options.terminalWidth, unicode: options.unicode,
                              color: options.color, logScale: options.histogramLogScale, to: output)
            }
            table?.flush()
            output.flush()
        }
    }

    /// Shows the first warnings of each file and counts the rest.
    final class WarningLimiter {
        let limit: Int
        let warn: (String) -> Void
        var perFile: [String: Int] = [:]
        var order: [String] = []
        var total = 0

        init(limit: Int, warn: @escaping (String) -> Void) {
            self.limit = limit
            self.warn = warn
        }

        func add(_ warning: LogWarning) {
            total += 1
            let seen = perFile[warning.file, default: 0]
            if seen == 0 { order.append(warning.file) }
            perFile[warning.file] = seen + 1
            if seen < limit {
                warn(TerminalText.sanitize(warning.description))
            }
        }

        func finish() {
            for file in order {
                let count = perFile[file, default: 0]
                if count > limit {
                    warn(TerminalText.sanitize("\(file): \(count - limit) more warnings not shown"))
                }
            }
        }
    }
}
