import Testing
@testable import Rules

@Suite struct DiagnosticsTests {
    @Test func renderingWithCaretHintAndTabs() {
        let found = diagnostics("\tpass in\tprot tcp\n")
        #expect(found.count == 1)
        #expect(found[0].description == "test.rules:1:10: error: unknown keyword 'prot'\n    \tpass in\tprot tcp\n    \t       \t^~~~\n    hint: did you mean 'proto'?")
        let noLine = Diagnostic(severity: .warning, message: "m", location: Rules.SourceLocation(file: "f", line: 3, column: 2))
        #expect(noLine.description == "f:3:2: warning: m")
        #expect(noLine.length == 1)
    }

    @Test func collectionSummary() {
        let error = Diagnostic(severity: .error, message: "e", location: Rules.SourceLocation(file: "f", line: 1))
        let warning = Diagnostic(severity: .warning, message: "w", location: Rules.SourceLocation(file: "f", line: 2))
        #expect(Diagnostics([error]).summary == "1 error")
        #expect(Diagnostics([error, error, warning]).summary == "2 errors, 1 warning")
        #expect(Diagnostics([warning, warning]).summary == "2 warnings")
        #expect(Diagnostics().summary == "no problems")
        #expect(Diagnostics([error, warning]).description == "f:1:1: error: e\nf:2:1: warning: w\n1 error, 1 warning")
        #expect(Diagnostics([warning]).hasErrors == false)
    }

    @Test func allErrorsOfAFileInOrderWithWarnings() {
        #expect(headlines("""
        pass in from 10.0.0.1/8
        pas in
        table <unused> { 10.0.0.1 }
        block in proto tcp to port htpp
        """) == [
            "test.rules:1:14: warning: 10.0.0.1/8 has host bits set; it means 10.0.0.0/8",
            "test.rules:2:1: error: unknown keyword 'pas'",
            "test.rules:3:7: warning: table <unused> is never used",
            "test.rules:4:28: error: unknown service 'htpp'",
        ])
    }

    @Test func shadowedRulesAreWarnedAbout() throws {
        let ruleset = try #require(compiled("""
        pass in proto tcp to port { 22, 80 }
        pass in proto tcp to port 22 label "dead"
        block in from 10.0.0.0/8
        block in proto tcp from 10.1.0.0/16 to port 443
        pass in proto udp from 10.0.0.0/8 to port 53
        pass in on eth0 proto tcp to port 25
        pass in on eth1 proto tcp to port 25
        pass proto tcp to port 26
        pass in proto tcp to port 26
        pass in from ! 10.0.0.0/16
        pass in from ! 10.0.0.0/8 to port 27 proto tcp
        pass in inet proto icmp icmp-type { echoreq, unreach }
        pass in inet proto icmp icmp-type echoreq
        block all
        pass out proto tcp to port 28
        """))
        let warnings = ruleset.warnings.map { "\($0.location.line): \($0.message)" }
        #expect(warnings == [
            "2: rule 2 can never match: rule 1 (test.rules:1) matches every packet it would",
            "4: rule 4 can never match: rule 3 (test.rules:3) matches every packet it would",
            "5: rule 5 can never match: rule 3 (test.rules:3) matches every packet it would",
            "9: rule 9 can never match: rule 8 (test.rules:8) matches every packet it would",
            "11: rule 11 can never match: rule 10 (test.rules:10) matches every packet it would",
            "13: rule 13 can never match: rule 12 (test.rules:12) matches every packet it would",
            "15: rule 15 can never match: rule 14 (test.rules:14) matches every packet it would",
        ])
        #expect(ruleset.warnings[0].hint == "move it above rule 1 (synwall rules move 2 1), narrow rule 1, or delete it")
        #expect(ruleset.warnings[0].length == 4)
    }

    @Test func noShadowWarningsForRulesThatMatchMore() throws {
        let ruleset = try #require(compiled("""
        table <dyn> persist
        block in from <dyn>
        block in from { <dyn>, 10.0.0.1 }
        pass in proto tcp to port 22
        pass in proto { tcp, udp } to port 22
        pass in proto tcp from 10.0.0.0/8 to port 22
        pass out proto tcp to port 22
        pass in inet6 proto tcp to port 23
        pass in proto tcp to port 23
        """))
        #expect(ruleset.warnings.filter { $0.message.contains("can never match") }.map(\.location.line) == [6])
    }

    @Test func suggestions() {
        #expect(Suggestion.nearest(to: "prot", among: ["proto", "port"]) == "port" || Suggestion.nearest(to: "prot", among: ["proto", "port"]) == "proto")
        #expect(Suggestion.nearest(to: "lgo", among: ["log", "on"]) == "log")
        #expect(Suggestion.nearest(to: "PASS", among: ["pass"]) == "pass")
        #expect(Suggestion.nearest(to: "xyzzy", among: ["pass", "block"]) == nil)
        #expect(Suggestion.editDistance("kitten", "sitting") == 3)
        #expect(Suggestion.editDistance("ab", "ba") == 1)
        #expect(Suggestion.editDistance("", "abc") == 3)
    }

    @Test func lexerTokens() {
        let file = SourceFile(path: "t", text: "pass in on $if from !<t> to { 10.0.0.0/8, 2001:db8::/32 } port >= 1024 \"a \\\"b\\\"\" # c\nx != y <= z\n")
        var lexer = Lexer(file: file)
        let tokens = lexer.tokenize()
        #expect(lexer.diagnostics.isEmpty)
        #expect(tokens.map(\.kind) == [
            .word, .word, .word, .macro, .word, .bang, .table, .word, .leftBrace, .word, .comma, .word, .rightBrace,
            .word, .greaterEqual, .word, .string, .newline, .word, .notEqual, .word, .lessEqual, .word, .newline,
        ])
        #expect(tokens[3].text == "if")
        #expect(tokens[6].text == "t")
        #expect(tokens[6].span.column == 22)
        #expect(tokens[6].span.length == 3)
        #expect(tokens[11].text == "2001:db8::/32")
        #expect(tokens[16].text == "a \"b\"")
        #expect(tokens[18].span.line == 2)
    }

    @Test func columnsCountCharactersNotBytes() {
        let found = diagnostics("# é\nlabel = \"café\"\npass in prot tcp label $label\n")
        #expect(found.first?.location.column == 9)
        let accented = diagnostics("pass in label \"é\" prot tcp\n")
        #expect(accented.first?.location.column == 19)
    }
}
