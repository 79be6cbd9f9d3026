/// The text of one rule file (or table file), kept while compiling so diagnostics can quote
/// its lines.
final class SourceFile: Sendable {
    /// The path shown in diagnostics.
    let path: String
    /// The file's bytes (UTF-8).
    let bytes: [UInt8]
    /// Byte offset where each line starts; `lineStarts[0]` is line 1.
    let lineStarts: [Int]

    /// Characters of a line quoted under a diagnostic (see `InputLimits.quoteWidth`).
    let quoteWidth: Int

    convenience init(path: String, text: String, quoteWidth: Int = InputLimits.standard.quoteWidth) {
        self.init(path: path, bytes: Array(text.utf8), quoteWidth: quoteWidth)
    }

    init(path: String, bytes: [UInt8], quoteWidth: Int = InputLimits.standard.quoteWidth) {
        self.path = path
        self.bytes = bytes
        self.quoteWidth = max(20, quoteWidth)
        var starts = [0]
        for (offset, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") {
            starts.append(offset + 1)
        }
        self.lineStarts = starts
    }

    /// Number of lines (a final newline does not start another line).
    var lineCount: Int {
        bytes.last == UInt8(ascii: "\n") ? lineStarts.count - 1 : lineStarts.count
    }

    /// The text of line `line` (1-based) without its line break; empty when out of range.
    func lineText(_ line: Int) -> String {
        guard line >= 1, line <= lineStarts.count else { return "" }
        let start = lineStarts[line - 1]
        var end = line < lineStarts.count ? lineStarts[line] - 1 : bytes.count
        if end > start, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        guard end > start else { return "" }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    /// A diagnostic pointing at `span` in this file, quoting at most `quoteWidth` characters
    /// of its line around the column.
    func diagnostic(_ severity: Diagnostic.Severity, _ message: String, at span: SourceSpan,
                    hint: String? = nil) -> Diagnostic {
        let (quote, firstColumn) = quotedLine(span.line, around: span.column)
        var diagnostic = Diagnostic(severity: severity, message: message,
                                    location: SourceLocation(file: path, line: span.line, column: span.column),
                                    length: span.length, sourceLine: quote, hint: hint)
        diagnostic.sourceLineColumn = firstColumn
        return diagnostic
    }

    /// Line `line` as a diagnostic quotes it: whole when it has at most `quoteWidth`
    /// characters, else a window of that width around `column` with `…` for each cut. Also
    /// the column the quote's first character stands for (the `…` stands for the one before
    /// the first character kept).
    func quotedLine(_ line: Int, around column: Int) -> (text: String, firstColumn: Int) {
        guard line >= 1, line <= lineStarts.count else { return ("", 1) }
        let start = lineStarts[line - 1]
        var end = line < lineStarts.count ? lineStarts[line] - 1 : bytes.count
        if end > start, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        guard end > start else { return ("", 1) }
        // Short lines (the usual case) are quoted whole without counting characters.
        if end - start <= quoteWidth { return (String(decoding: bytes[start..<end], as: UTF8.self), 1) }
        // Column c starts at the (c-1)th character start; find the window's byte bounds.
        let firstKept = max(1, column - quoteWidth / 3)
        var characterColumn = 1
        var index = start
        var windowStart = start
        var windowEnd = end
        var found = false
        while index < end {
            if bytes[index] & 0xC0 != 0x80 {
                if characterColumn == firstKept { windowStart = index; found = true }
                if characterColumn == firstKept + quoteWidth { windowEnd = index; break }
                characterColumn += 1
            }
            index += 1
        }
        if !found { windowStart = end }
        var text = windowStart > start ? "…" : ""
        text += String(decoding: bytes[windowStart..<windowEnd], as: UTF8.self)
        if windowEnd < end { text += "…" }
        return (text, windowStart > start ? firstKept - 1 : 1)
    }

    /// The first thing that makes these bytes no rule or table file: a NUL byte, a byte that
    /// is not UTF-8, or a line longer than `lineBytes`; nil when there is none.
    func firstProblem(lineBytes: Int) -> (message: String, line: Int, column: Int, hint: String)? {
        var line = 1
        var lineStart = 0
        var column = 1
        var index = 0
        let count = bytes.count
        func notText(_ what: String) -> (String, Int, Int, String) {
            ("not a text file (\(what) at byte \(index))", line, column,
             "rule and table files are UTF-8 text; is this the file you meant?")
        }
        while index < count {
            let byte = bytes[index]
            if byte < 0x80 {
                if byte == 0 { return notText("a NUL byte") }
                if byte == UInt8(ascii: "\n") {
                    line += 1
                    lineStart = index + 1
                    column = 1
                    index += 1
                    continue
                }
                index += 1
            } else {
                // One UTF-8 sequence: a lead byte and 1-3 continuation bytes, no overlong
                // forms, no surrogates, nothing past U+10FFFF.
                let length: Int
                var low: UInt8 = 0x80, high: UInt8 = 0xBF
                switch byte {
                case 0xC2...0xDF: length = 2
                case 0xE0: length = 3; low = 0xA0
                case 0xE1...0xEC, 0xEE...0xEF: length = 3
                case 0xED: length = 3; high = 0x9F
                case 0xF0: length = 4; low = 0x90
                case 0xF1...0xF3: length = 4
                case 0xF4: length = 4; high = 0x8F
                default: return notText("a byte 0x\(String(byte, radix: 16, uppercase: true)) that is not UTF-8")
                }
                guard index + length <= count else { return notText("a UTF-8 sequence cut short") }
                for offset in 1..<length {
                    let next = bytes[index + offset]
                    let (lowest, highest) = offset == 1 ? (low, high) : (UInt8(0x80), UInt8(0xBF))
                    guard next >= lowest, next <= highest else {
                        return notText("a byte 0x\(String(byte, radix: 16, uppercase: true)) that is not UTF-8")
                    }
                }
                index += length
            }
            column += 1
            if index - lineStart > lineBytes {
                return ("line \(line) is longer than \(InputLimits.describe(bytes: lineBytes))", line, 1,
                        "rule and table files are text with lines of at most \(InputLimits.describe(bytes: lineBytes)); "
                            + "split a long list over several lines, or is this the file you meant?")
            }
        }
        return nil
    }
}

/// Where a token sits: its file, 1-based line and column (in characters), and its length in
/// characters.
struct SourceSpan: Sendable {
    var file: SourceFile
    var line: Int
    var column: Int
    var length: Int

    var location: SourceLocation { SourceLocation(file: file.path, line: line, column: column) }
}
