import EventLog

/// One record read from a log file.
public struct LogEntry: Sendable, Equatable {
    /// The record.
    public var event: Event
    /// The line as it is in the file (without the newline), when the reader was asked to keep
    /// lines (for `--json` output, which passes records through unchanged).
    public var line: String?
    /// The file it came from.
    public var file: String
    /// Its line number in that file, from 1.
    public var lineNumber: Int

    /// Creates an entry.
    public init(event: Event, line: String? = nil, file: String, lineNumber: Int) {
        self.event = event
        self.line = line
        self.file = file
        self.lineNumber = lineNumber
    }
}
