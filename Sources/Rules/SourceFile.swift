/// The text of one rule file (or table file), kept while compiling so diagnostics can quote
/// its lines.
final class SourceFile: Sendable {
    /// The path shown in diagnostics.
    let path: String
    /// The file's bytes (UTF-8).
    let bytes: [UInt8]
    /// Byte offset where each line starts; `lineStarts[0]` is line 1.
    let lineStarts: [Int]

    init(path: String, text: String) {
        self.path = path
        self.bytes = Array(text.utf8)
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

    /// A diagnostic pointing at `span` in this file.
    func diagnostic(_ severity: Diagnostic.Severity, _ message: String, at span: SourceSpan,
                    hint: String? = nil) -> Diagnostic {
        Diagnostic(severity: severity, message: message,
                   location: SourceLocation(file: path, line: span.line, column: span.column),
                   length: span.length, sourceLine: lineText(span.line), hint: hint)
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
