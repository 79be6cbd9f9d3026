/// Splits rule-file text into tokens, reporting bad characters and unterminated strings.
///
/// Words run until whitespace or one of `{ } , " # ! = < > $`; so `192.0.2.0/24`,
/// `2001:db8::/32`, `1000:2000`, `5/30`, `tcp.established` and `eth0.100` are single words.
/// `#` starts a comment to the end of the line; a backslash at the end of a line joins it to
/// the next.
struct Lexer {
    let file: SourceFile
    private let bytes: [UInt8]
    private var offset: Int
    private let end: Int
    private var line: Int
    private var column: Int
    /// When set, every token gets this span (text re-lexed from a macro's string value).
    private let fixedSpan: SourceSpan?
    private(set) var diagnostics: [Diagnostic] = []
    /// Tokenizing stops after this many errors (the compile's error limit).
    var errorLimit = Int.max

    /// A lexer over a whole file.
    init(file: SourceFile) {
        self.file = file
        self.bytes = file.bytes
        self.offset = 0
        self.end = file.bytes.count
        self.line = 1
        self.column = 1
        self.fixedSpan = nil
    }

    /// A lexer over `text`, whose tokens all point at `span` (a macro's string value).
    init(text: String, span: SourceSpan) {
        self.file = span.file
        self.bytes = Array(text.utf8)
        self.offset = 0
        self.end = bytes.count
        self.line = span.line
        self.column = span.column
        self.fixedSpan = span
    }

    /// Every token, newlines included, ending with a newline.
    mutating func tokenize() -> [Token] {
        var tokens: [Token] = []
        while offset < end, diagnostics.count < errorLimit {
            let byte = bytes[offset]
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                advance()
            case UInt8(ascii: "\n"):
                tokens.append(make(.newline, "\n", start: (offset, line, column), length: 1))
                offset += 1
                line += 1
                column = 1
            case UInt8(ascii: "#"):
                while offset < end, bytes[offset] != UInt8(ascii: "\n") { offset += 1 }
            case UInt8(ascii: "\\"):
                if let next = continuationEnd() {
                    offset = next + 1
                    line += 1
                    column = 1
                } else {
                    let start = (offset, line, column)
                    advance()
                    report("unexpected character '\\'", start: start, length: 1,
                           hint: "a backslash joins a line to the next only at the very end of a line")
                    tokens.append(make(.invalid, "\\", start: start, length: 1))
                }
            case UInt8(ascii: "\""):
                tokens.append(lexString())
            case UInt8(ascii: "{"): tokens.append(single(.leftBrace, "{"))
            case UInt8(ascii: "}"): tokens.append(single(.rightBrace, "}"))
            case UInt8(ascii: ","): tokens.append(single(.comma, ","))
            case UInt8(ascii: "="): tokens.append(single(.equals, "="))
            case UInt8(ascii: "!"):
                if peek(1) == UInt8(ascii: "=") { tokens.append(double(.notEqual, "!=")) } else { tokens.append(single(.bang, "!")) }
            case UInt8(ascii: ">"):
                if peek(1) == UInt8(ascii: "=") { tokens.append(double(.greaterEqual, ">=")) } else { tokens.append(single(.greater, ">")) }
            case UInt8(ascii: "<"):
                if let table = lexTable() {
                    tokens.append(table)
                } else if peek(1) == UInt8(ascii: "=") {
                    tokens.append(double(.lessEqual, "<="))
                } else {
                    tokens.append(single(.less, "<"))
                }
            case UInt8(ascii: "$"):
                tokens.append(lexMacro())
            default:
                if Lexer.isWordByte(byte) {
                    tokens.append(lexWord())
                } else {
                    let start = (offset, line, column)
                    let scalarEnd = scalarEndOffset(offset)
                    let text = String(decoding: bytes[offset..<scalarEnd], as: UTF8.self)
                    offset = scalarEnd
                    column += 1
                    report("unexpected character '\(text)'", start: start, length: 1, hint: nil)
                    tokens.append(make(.invalid, text, start: start, length: 1))
                }
            }
        }
        if tokens.last?.kind != .newline {
            tokens.append(make(.newline, "\n", start: (offset, line, column), length: 1))
        }
        return tokens
    }

    /// True for bytes that may appear in a word: printable ASCII other than the delimiters,
    /// and every byte of a non-ASCII character.
    static func isWordByte(_ byte: UInt8) -> Bool {
        if byte >= 0x80 { return true }
        guard byte > 0x20, byte < 0x7F else { return false }
        switch byte {
        case UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: ","), UInt8(ascii: "\""), UInt8(ascii: "#"),
             UInt8(ascii: "!"), UInt8(ascii: "="), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "$"),
             UInt8(ascii: "\\"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: ";"), UInt8(ascii: "'"),
             UInt8(ascii: "`"):
            return false
        default:
            return true
        }
    }

    /// True for bytes of a table or macro name.
    static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "."):
            return true
        default:
            return false
        }
    }

    // MARK: - Pieces

    private func peek(_ distance: Int) -> UInt8? {
        offset + distance < end ? bytes[offset + distance] : nil
    }

    /// Moves past one byte, counting a column only at the start of a character.
    private mutating func advance() {
        if bytes[offset] & 0xC0 != 0x80 { column += 1 }
        offset += 1
    }

    private func scalarEndOffset(_ start: Int) -> Int {
        var next = start + 1
        while next < end, bytes[next] & 0xC0 == 0x80 { next += 1 }
        return next
    }

    /// If a backslash at `offset` is followed only by blanks (or a comment) up to the line's
    /// end, the offset of that newline; else nil.
    private func continuationEnd() -> Int? {
        var index = offset + 1
        while index < end {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"): index += 1
            case UInt8(ascii: "\n"): return index
            default: return nil
            }
        }
        return nil
    }

    private mutating func single(_ kind: Token.Kind, _ text: String) -> Token {
        let token = make(kind, text, start: (offset, line, column), length: 1)
        advance()
        return token
    }

    private mutating func double(_ kind: Token.Kind, _ text: String) -> Token {
        let token = make(kind, text, start: (offset, line, column), length: 2)
        advance()
        advance()
        return token
    }

    private mutating func lexWord() -> Token {
        let start = (offset, line, column)
        let first = offset
        while offset < end, Lexer.isWordByte(bytes[offset]) { advance() }
        return make(.word, String(decoding: bytes[first..<offset], as: UTF8.self), start: start,
                    length: column - start.2)
    }

    /// `<name>` when the bytes after `<` are a name closed by `>`; nil otherwise.
    private mutating func lexTable() -> Token? {
        var index = offset + 1
        while index < end, Lexer.isNameByte(bytes[index]) { index += 1 }
        guard index > offset + 1, index < end, bytes[index] == UInt8(ascii: ">") else { return nil }
        let start = (offset, line, column)
        let name = String(decoding: bytes[(offset + 1)..<index], as: UTF8.self)
        let length = index + 1 - offset
        offset = index + 1
        column += length
        return make(.table, name, start: start, length: length)
    }

    private mutating func lexMacro() -> Token {
        let start = (offset, line, column)
        advance()
        let first = offset
        while offset < end, Lexer.isNameByte(bytes[offset]), bytes[offset] != UInt8(ascii: "-"),
              bytes[offset] != UInt8(ascii: ".") {
            advance()
        }
        guard offset > first else {
            report("'$' must be followed by a macro name", start: start, length: 1,
                   hint: "write $name for a macro defined earlier as name = value")
            return make(.invalid, "$", start: start, length: 1)
        }
        return make(.macro, String(decoding: bytes[first..<offset], as: UTF8.self), start: start,
                    length: column - start.2)
    }

    private mutating func lexString() -> Token {
        let start = (offset, line, column)
        advance()
        var contents: [UInt8] = []
        while offset < end, bytes[offset] != UInt8(ascii: "\n") {
            let byte = bytes[offset]
            if byte == UInt8(ascii: "\"") {
                advance()
                return make(.string, String(decoding: contents, as: UTF8.self), start: start, length: column - start.2)
            }
            if byte == UInt8(ascii: "\\"), offset + 1 < end,
               bytes[offset + 1] == UInt8(ascii: "\"") || bytes[offset + 1] == UInt8(ascii: "\\") {
                contents.append(bytes[offset + 1])
                advance()
                advance()
                continue
            }
            contents.append(byte)
            advance()
        }
        report("unterminated string", start: start, length: 1, hint: "close it with '\"' on the same line")
        return make(.invalid, String(decoding: contents, as: UTF8.self), start: start, length: 1)
    }

    private func make(_ kind: Token.Kind, _ text: String, start: (Int, Int, Int), length: Int) -> Token {
        if let fixedSpan { return Token(kind: kind, text: text, span: fixedSpan) }
        return Token(kind: kind, text: text, span: SourceSpan(file: file, line: start.1, column: start.2, length: length))
    }

    private mutating func report(_ message: String, start: (Int, Int, Int), length: Int, hint: String?) {
        let span = fixedSpan ?? SourceSpan(file: file, line: start.1, column: start.2, length: length)
        diagnostics.append(file.diagnostic(.error, message, at: span, hint: hint))
    }
}
