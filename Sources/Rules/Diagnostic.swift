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

    /// A diagnostic from its parts.
    public init(severity: Severity, message: String, location: SourceLocation, length: Int = 1,
                sourceLine: String = "", hint: String? = nil) {
        self.severity = severity
        self.message = message
        self.location = location
        self.length = max(1, length)
        self.sourceLine = sourceLine
        self.hint = hint
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
        var column = 1
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
        if length > 1 { line += String(repeating: "~", count: length - 1) }
        return line
    }
}
