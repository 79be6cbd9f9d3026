/// The bounds a compile keeps to, whatever files it is given: a binary passed by mistake, a
/// file with one enormous line or a macro that doubles itself twenty times ends in one clear
/// error, in bounded memory and time, instead of taking the machine down.
///
/// Every figure is stated in the error that hits it. The file sizes can be raised for one
/// compile (`synwall check --max-file-size`) or, for the files read after it, by the rule file
/// itself (`set limit file-size 64M`).
public struct InputLimits: Sendable, Hashable {
    /// Largest rule file (the main file or an included one), in bytes.
    public var ruleFileBytes: Int
    /// Largest table file (`table <t> file "…"`), in bytes.
    public var tableFileBytes: Int
    /// All the files of one compile together, in bytes.
    public var totalBytes: Int
    /// Longest line of a rule or table file, in bytes.
    public var lineBytes: Int
    /// Errors reported before the compile stops (`too many errors, stopping`).
    public var errors: Int
    /// How deeply includes may nest.
    public var includeDepth: Int
    /// Files (rule and table files) one compile may read, counting repeated includes.
    public var files: Int
    /// Tokens one statement or macro value may hold once its macros are expanded.
    public var expandedTokens: Int
    /// Tokens all macro expansions of one compile may produce together.
    public var totalExpandedTokens: Int
    /// Characters of a source line quoted under a diagnostic; a longer line is cut around
    /// the column, with `…` marking the cuts.
    public var quoteWidth: Int

    /// The defaults: 16 MiB per rule file, 64 MiB per table file (about four million
    /// prefixes), 256 MiB in all, 64 KiB per line, 20 errors, 16 include levels, 1,024 files,
    /// 65,536 tokens per statement and 4,000,000 expanded in all, quotes 100 characters wide.
    public static let standard = InputLimits()

    /// Limits from their parts (each defaults to the standard figure).
    public init(ruleFileBytes: Int = 16 << 20, tableFileBytes: Int = 64 << 20, totalBytes: Int = 256 << 20,
                lineBytes: Int = 64 << 10, errors: Int = 20, includeDepth: Int = 16, files: Int = 1_024,
                expandedTokens: Int = 65_536, totalExpandedTokens: Int = 4_000_000, quoteWidth: Int = 100) {
        self.ruleFileBytes = ruleFileBytes
        self.tableFileBytes = tableFileBytes
        self.totalBytes = totalBytes
        self.lineBytes = lineBytes
        self.errors = errors
        self.includeDepth = includeDepth
        self.files = files
        self.expandedTokens = expandedTokens
        self.totalExpandedTokens = totalExpandedTokens
        self.quoteWidth = quoteWidth
    }

    /// These limits with both file-size caps set to `bytes` (and the total to at least four
    /// times that): what `--max-file-size` and `set limit file-size` do.
    public func withFileSize(_ bytes: Int) -> InputLimits {
        var limits = self
        limits.ruleFileBytes = bytes
        limits.tableFileBytes = bytes
        limits.totalBytes = max(totalBytes, bytes.multipliedReportingOverflow(by: 4).overflow ? Int.max : bytes * 4)
        return limits
    }

    /// `64M`, `512K`, `1G` or a number of bytes (at least 4096) as a byte count; nil otherwise.
    public static func size(_ text: String) -> Int? { Parser.byteSize(text) }

    /// `16 MiB`, `64 KiB`, `512 bytes`: a size as the errors print it.
    static func describe(bytes: Int) -> String {
        if bytes >= 1 << 30, bytes % (1 << 30) == 0 { return "\(bytes >> 30) GiB" }
        if bytes >= 1 << 20, bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
        if bytes >= 1 << 10, bytes % (1 << 10) == 0 { return "\(bytes >> 10) KiB" }
        return "\(bytes) bytes"
    }
}
