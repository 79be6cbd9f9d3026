/// One problem found in a rule file: an error (the file is refused) or a warning (the file is
/// accepted, but something in it is probably not what its author meant).
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    /// How serious the problem is.
    public enum Severity: String, Sendable, Hashable {
        /// The ruleset cannot be used.
        case error
        /// The ruleset works, but part of it is dead or suspicious.
        case warning
    }

    /// Error or warning.
    public var severity: Severity
    /// One sentence, lower case, no final period (`unknown keyword 'prot'`).
    public var message: String
    /// Where the problem starts.
    public var location: SourceLocation
    /// How many characters the caret underlines (at least 1).
    public var length: Int
    /// The text of the offending line, as written (empty when unknown).
    public var sourceLine: String
    /// What to do about it (`did you mean 'proto'?`), or nil.
    public var hint: String?
    /// The column `sourceLine`'s first character stands for: 1 unless a long line was cut
    /// to a window around the column (then the quote starts with `…`).
    public var sourceLineColumn: Int = 1

    /// A diagnostic from its parts.
    public init(severity: Severity, message: String, location: SourceLocation, length: Int = 1,
                sourceLine: String = "", hint: String? = nil) {
        self.severity = severity
        self.message = Diagnostic.clipped(message)
        self.location = location
        self.length = max(1, length)
        self.sourceLine = sourceLine
        self.hint = hint.map { Diagnostic.clipped($0) }
    }

    /// Longest message or hint kept, in characters: a word quoted from a binary or a very
    /// long line is cut with `…`.
    public static let maximumMessageLength = 300

    static func clipped(_ text: String) -> String {
        guard text.utf8.count > maximumMessageLength else { return text }
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars.prefix(maximumMessageLength - 1) { scalars.append(scalar) }
        return String(scalars) + "…"
    }

    /// The diagnostic as printed: `FILE:LINE:COLUMN: error: message`, then the source line,
    /// a caret line under the spot, and the hint, each of these indented by four spaces.
    public var description: String {
        var text = "\(location): \(severity.rawValue): \(message)"
        if !sourceLine.isEmpty {
            text += "\n    " + sourceLine + "\n    " + caretLine
        }
        if let hint {
            text += "\n    hint: " + hint
        }
        return text
    }

    /// Spaces (tabs kept where the source has them, so the caret lines up) then `^~~~`.
    var caretLine: String {
        var line = ""
        var column = sourceLineColumn
        for scalar in sourceLine.unicodeScalars {
            guard column < location.column else { break }
            line.unicodeScalars.append(scalar == "\t" ? "\t" : " ")
            column += 1
        }
        while column < location.column {
            line += " "
            column += 1
        }
        line += "^"
        // Underline no further than the quote goes.
        let quoted = sourceLine.unicodeScalars.count
        let underlined = min(length - 1, max(0, quoted - (location.column - sourceLineColumn) - 1))
        if underlined > 0 { line += String(repeating: "~", count: underlined) }
        return line
    }
}
