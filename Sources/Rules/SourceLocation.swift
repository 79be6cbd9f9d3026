/// A place in a rule file: the path as the user named it (or as an `include` resolved it),
/// and a 1-based line and column. Columns count characters (Unicode scalars), not bytes.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    /// The file's path.
    public var file: String
    /// Line number, from 1.
    public var line: Int
    /// Column number, from 1.
    public var column: Int

    /// A location from its parts.
    public init(file: String, line: Int, column: Int = 1) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `FILE:LINE:COLUMN`, the form editors jump to.
    public var description: String { "\(file):\(line):\(column)" }

    /// `FILE:LINE`, for listings where the column adds nothing.
    public var fileAndLine: String { "\(file):\(line)" }
}
