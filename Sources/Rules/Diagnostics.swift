/// Every error and warning found while compiling a ruleset, in file order.
///
/// As an `Error` (a failed compile) it holds at least one error; printed, it is each
/// diagnostic followed by a count line such as `2 errors, 1 warning`.
public struct Diagnostics: Error, Sendable, Hashable, CustomStringConvertible {
    /// All diagnostics, errors and warnings, in the order they were found.
    public var items: [Diagnostic]
    /// Where the compile stopped because of too many errors (the first error not shown), or
    /// nil when every error found is in `items`.
    public var stoppedAt: SourceLocation?

    /// Diagnostics from a list.
    public init(_ items: [Diagnostic] = [], stoppedAt: SourceLocation? = nil) {
        self.items = items
        self.stoppedAt = stoppedAt
    }

    /// Only the errors.
    public var errors: [Diagnostic] { items.filter { $0.severity == .error } }
    /// Only the warnings.
    public var warnings: [Diagnostic] { items.filter { $0.severity == .warning } }
    /// True when at least one error is present.
    public var hasErrors: Bool { items.contains { $0.severity == .error } }

    /// `1 error`, `2 errors, 1 warning`, `no problems`.
    public var summary: String {
        let errorCount = errors.count, warningCount = warnings.count
        var parts: [String] = []
        if errorCount > 0 { parts.append("\(errorCount) error" + (errorCount == 1 ? "" : "s")) }
        if warningCount > 0 { parts.append("\(warningCount) warning" + (warningCount == 1 ? "" : "s")) }
        if stoppedAt != nil { parts.append("stopped early") }
        return parts.isEmpty ? "no problems" : parts.joined(separator: ", ")
    }

    /// `FILE:LINE:COLUMN: error: too many errors (N shown), stopping` when the compile
    /// stopped early, else nil.
    public var stopLine: String? {
        stoppedAt.map { "\($0): error: too many errors (\(errors.count) shown), stopping" }
    }

    /// Every diagnostic as printed, the stop line if any, then the summary line.
    public var description: String {
        (items.map(\.description) + [stopLine, summary].compactMap { $0 }).joined(separator: "\n")
    }
}
