import EventLog
import Testing

@Suite struct TerminalTextTests {
    @Test func oneLineEscapesEveryControlCharacterTabsIncludedUnlessKept() {
        #expect(TerminalText.sanitize("a\u{1B}]0;owned\u{07}b\tc") == "a\\x1b]0;owned\\x07b\\x09c")
        #expect(TerminalText.sanitize("a\tb", keepingTabs: true) == "a\tb")
        #expect(TerminalText.sanitize("plain") == "plain")
    }

    @Test func linesKeepTheirBreaksAndTabsAndLoseEverythingElse() {
        let hostile = "rule 1:  pass label \"x\u{1B}[2J\u{9B}y\"\n\tlabel:   \u{202E}txt.exe\r\nend"
        #expect(TerminalText.sanitizeLines(hostile)
            == "rule 1:  pass label \"x\\x1b[2J\\x9by\"\n\tlabel:   \\u{202e}txt.exe\\x0d\nend")
        let tidy = "line one\n\tline two\n"
        #expect(TerminalText.sanitizeLines(tidy) == tidy)
    }
}
