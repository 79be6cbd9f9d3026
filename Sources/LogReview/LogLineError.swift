/// Why one line of a log file is not a record; the reader skips such a line with a warning.
public struct LogLineError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What is wrong, in a few words (`expected ':' after a key`).
    public var message: String
    /// The byte column (from 1) where the parser gave up.
    public var column: Int

    /// Creates an error for `message` at `column`.
    public init(_ message: String, column: Int) {
        self.message = message
        self.column = column
    }

    public var description: String { "column \(column): \(message)" }
}
