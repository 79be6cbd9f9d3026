/// Something the reader skipped, naming the file and (when it is about one line) the line:
/// `events.jsonl:1042: skipped a malformed line: column 7: expected ':' after a key`.
public struct LogWarning: Sendable, Equatable, CustomStringConvertible {
    /// The file's path as given or found.
    public var file: String
    /// The line number (from 1), or nil for a warning about the whole file.
    public var line: Int?
    /// What was wrong.
    public var message: String

    /// Creates a warning.
    public init(file: String, line: Int?, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        if let line { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }
}
