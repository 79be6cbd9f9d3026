/// One lexical unit of a rule file.
struct Token: Sendable {
    enum Kind: Sendable, Equatable {
        /// A bare word: keyword, name, number, address, prefix, port range, duration…
        case word
        /// A double-quoted string; `text` holds its contents, escapes resolved.
        case string
        /// `<name>`; `text` holds the name.
        case table
        /// `$name`; `text` holds the name.
        case macro
        case leftBrace, rightBrace, comma, bang, equals
        case less, lessEqual, greater, greaterEqual, notEqual
        /// The end of a line (not inside a continuation).
        case newline
        /// Something the lexer refused (already reported).
        case invalid
    }

    var kind: Kind
    var text: String
    var span: SourceSpan

    /// How the token is shown in messages: `'proto'`, `'{'`, `end of line`.
    var quoted: String {
        switch kind {
        case .newline: return "end of line"
        case .string: return "\"\(text)\""
        case .table: return "'<\(text)>'"
        case .macro: return "'$\(text)'"
        default: return "'\(text)'"
        }
    }

    func isWord(_ word: String) -> Bool { kind == .word && text == word }
}
