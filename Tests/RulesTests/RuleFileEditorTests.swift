import Testing
@testable import Rules
#if canImport(Glibc)
import Glibc
#endif

/// Round trips of the editor on files full of comments: only the rule's lines change.
@Suite struct RuleFileEditorTests {
    static let commented = """
    # Header comment, kept as is.
    #   indented comment

    ext_if = "eth0"     # the outside
    table <bad> { 203.0.113.0/24 }   # scanners

    policy in drop log
    policy out pass

    # --- inbound ---
    block in quick from <bad> log      # first
    \tpass in on $ext_if proto tcp to port ssh   # tab-indented rule
    pass in proto tcp \\
        to port { http, https }        # continued rule

    # trailing comment, then blank lines


    """

    func editor(_ text: String = commented) throws -> RuleFileEditor {
        try RuleFileEditor(text: text, path: "test.rules")
    }

    func lines(_ text: String?) -> [String] {
        (text ?? "").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    @Test func addAppendsAfterTheLastRuleWithItsIndentation() throws {
        var editor = try editor()
        let change = try editor.add("pass in proto udp to port 53   # dns")
        #expect(change.summary == "added rule 4: pass in proto udp to port 53")
        let before = lines(Self.commented), after = lines(editor.text())
        #expect(after.count == before.count + 1)
        #expect(after[14] == "pass in proto udp to port 53   # dns")
        var expected = before
        expected.insert("pass in proto udp to port 53   # dns", at: 14)
        #expect(after == expected)
        #expect(editor.ruleset.rules.count == 4)
        #expect(editor.pendingChanges.keys.sorted() == ["test.rules"])
    }

    @Test func insertGoesBeforeRuleNKeepingItsIndentation() throws {
        var editor = try editor()
        let change = try editor.insert("block in from 198.51.100.0/24", at: 2)
        #expect(change.summary == "inserted rule 2: block in from 198.51.100.0/24")
        var expected = lines(Self.commented)
        expected.insert("\tblock in from 198.51.100.0/24", at: 11)
        #expect(lines(editor.text()) == expected)
        #expect(editor.ruleset.rules.map(\.text) == [
            "block in quick from <bad> log", "block in from 198.51.100.0/24",
            "pass in on $ext_if proto tcp to port ssh", "pass in proto tcp to port { http, https }",
        ])
        // One past the end appends.
        let appended = try editor.insert("pass out all", at: 5)
        #expect(appended.summary == "added rule 5: pass out all")
    }

    @Test func deleteRemovesOnlyTheRulesLinesEvenAcrossAContinuation() throws {
        var editor = try editor()
        let change = try editor.delete(number: 3)
        #expect(change.summary == "deleted rule 3: pass in proto tcp to port { http, https }")
        var expected = lines(Self.commented)
        expected.removeSubrange(12...13)
        #expect(lines(editor.text()) == expected)
        let byText = try editor.delete(text: "block  in quick from <bad>   log # any comment")
        #expect(byText.summary == "deleted rule 1: block in quick from <bad> log")
        expected.remove(at: 10)
        #expect(lines(editor.text()) == expected)
    }

    @Test func moveCarriesTheRuleAndItsContinuationLines() throws {
        var editor = try editor()
        let change = try editor.move(from: 3, to: 1)
        #expect(change.summary == "moved rule 3 to 1: pass in proto tcp to port { http, https }")
        var expected = lines(Self.commented)
        let block = Array(expected[12...13])
        expected.removeSubrange(12...13)
        expected.insert(contentsOf: block, at: 10)
        #expect(lines(editor.text()) == expected)
        // And back down to the end.
        let back = try editor.move(from: 1, to: 3)
        #expect(back.summary == "moved rule 1 to 3: pass in proto tcp to port { http, https }")
        #expect(lines(editor.text()) == lines(Self.commented))
        let down = try editor.move(from: 1, to: 2)
        #expect(down.ruleset.rules.map(\.text).first == "pass in on $ext_if proto tcp to port ssh")
        #expect(lines(editor.text())[10] == "\tpass in on $ext_if proto tcp to port ssh   # tab-indented rule")
        #expect(lines(editor.text())[11] == "block in quick from <bad> log      # first")
        #expect(try editor.move(from: 2, to: 2).summary == "rule 2 stays where it is")
    }

    @Test func invalidEditsChangeNothingAndSayWhy() throws {
        var editor = try editor()
        let original = editor.text()
        #expect(throws: RuleEditError.self) { try editor.add("pass in prot tcp") }
        do {
            try editor.add("pass in prot tcp")
        } catch {
            #expect(error.description == """
            test.rules:15:9: error: unknown keyword 'prot'
                pass in prot tcp
                        ^~~~
                hint: did you mean 'proto'?
            1 error
            the edit would make the rules invalid; nothing was changed
            """)
        }
        #expect(editor.text() == original)
        #expect(editor.pendingChanges.isEmpty)
        let attempts: [(String, (inout RuleFileEditor) throws(RuleEditError) -> Void)] = [
            ("'table <x> persist' is not a rule: give one rule, starting with pass or block, on one line",
             { (e: inout RuleFileEditor) throws(RuleEditError) in try e.add("table <x> persist") }),
            ("give one rule on one line", { (e: inout RuleFileEditor) throws(RuleEditError) in try e.add("pass in\npass out") }),
            ("'pass in \\' is not a rule: give one rule, starting with pass or block, on one line",
             { (e: inout RuleFileEditor) throws(RuleEditError) in try e.add("pass in \\") }),
            ("there is no rule 9: the file has 3 rules (see synwall rules list)",
             { (e: inout RuleFileEditor) throws(RuleEditError) in try e.delete(number: 9) }),
            ("there is no rule 0: the file has 3 rules (see synwall rules list)",
             { (e: inout RuleFileEditor) throws(RuleEditError) in try e.insert("pass all", at: 0) }),
            ("no rule reads 'pass in all' (see synwall rules list; or delete by number)",
             { (e: inout RuleFileEditor) throws(RuleEditError) in try e.delete(text: "pass in all") }),
            ("there is no rule 4: the file has 3 rules (see synwall rules list)",
             { (e: inout RuleFileEditor) throws(RuleEditError) in try e.move(from: 1, to: 4) }),
        ]
        for (message, attempt) in attempts {
            do {
                try attempt(&editor)
                Issue.record("expected: \(message)")
            } catch {
                #expect(error.description == message)
            }
        }
        #expect(editor.text() == original)
    }

    @Test func deletingByTextThatSeveralRulesShareIsRefused() throws {
        var editor = try editor("pass in all\nblock out all\npass in   all # again\n")
        do {
            try editor.delete(text: "pass in all")
            Issue.record("expected a refusal")
        } catch {
            #expect(error.description == "rules 1, 3 all read 'pass in all'; delete one by number")
        }
    }

    @Test func aFileWithErrorsCannotBeEdited() {
        do {
            _ = try RuleFileEditor(text: "pass in prot tcp\n", path: "test.rules")
            Issue.record("expected a refusal")
        } catch {
            #expect(error.description.hasSuffix("test.rules has errors; fix them first (synwall check test.rules), then edit"))
        }
    }

    @Test func emptyFilesAndFilesWithoutTrailingNewlines() throws {
        var empty = try editor("")
        try empty.add("pass in all")
        #expect(empty.text() == "pass in all\n")
        var noNewline = try editor("# only a comment\npolicy in drop")
        try noNewline.add("pass in proto tcp to port 22")
        #expect(noNewline.text() == "# only a comment\npolicy in drop\npass in proto tcp to port 22")
        var crlf = try editor("pass in all\r\n# c\r\n")
        try crlf.insert("block in from 10.0.0.1", at: 1)
        #expect(crlf.text() == "block in from 10.0.0.1\r\npass in all\r\n# c\r\n")
    }

    @Test func listingNumbersRulesAndShowsPolicies() throws {
        let editor = try editor()
        #expect(editor.listing() == """
          1  test.rules:11  block in quick from <bad> log
          2  test.rules:12  pass in on $ext_if proto tcp to port ssh
          3  test.rules:13  pass in proto tcp to port { http, https }
        policy in drop log  (test.rules:7)
        policy out pass  (test.rules:8)
        policy forward drop (default)
        """)
        #expect(editor.listing(hits: [12, 0, 3456]) == """
          1    12  test.rules:11  block in quick from <bad> log
          2     0  test.rules:12  pass in on $ext_if proto tcp to port ssh
          3  3456  test.rules:13  pass in proto tcp to port { http, https }
        policy in drop log  (test.rules:7)
        policy out pass  (test.rules:8)
        policy forward drop (default)
        """)
    }

    @Test func editsOfIncludedFilesAndMovesAcrossFiles() throws {
        let scratch = ScratchDirectory()
        let included = scratch.write("inc.rules", "# included\npass in proto tcp to port 80\n")
        let main = scratch.write("main.rules", "block in from 10.0.0.1\ninclude \"inc.rules\"\n")
        var editor = try RuleFileEditor(path: main)
        let change = try editor.insert("pass in proto tcp to port 81", at: 2)
        #expect(change.file == included)
        #expect(editor.text(of: included) == "# included\npass in proto tcp to port 81\npass in proto tcp to port 80\n")
        do {
            try editor.move(from: 1, to: 3)
            Issue.record("expected a refusal")
        } catch {
            #expect(error.description == "rule 1 is in \(main) but position 3 is in \(included); move rules within one file, or delete and insert")
        }
        #expect(try editor.save() == [included])
        #expect(scratch.read("inc.rules") == "# included\npass in proto tcp to port 81\npass in proto tcp to port 80\n")
        #expect(scratch.read("inc.rules.bak") == "# included\npass in proto tcp to port 80\n")
        #expect(scratch.read("main.rules") == "block in from 10.0.0.1\ninclude \"inc.rules\"\n")
    }

    @Test func saveIsAtomicKeepsTheModeAndOneBackup() throws {
        let scratch = ScratchDirectory()
        let path = scratch.write("fw.rules", Self.commented)
        chmod(path, 0o640)
        var editor = try RuleFileEditor(path: path)
        try editor.add("pass in proto udp to port 53")
        #expect(try editor.save() == [path])
        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(info.st_mode & 0o7777 == 0o640)
        #expect(scratch.read("fw.rules.bak") == Self.commented)
        #expect(scratch.read("fw.rules") == editor.text())
        // A second edit replaces the backup with the previous version.
        let firstEdit = scratch.read("fw.rules")
        try editor.delete(number: 1)
        try editor.save()
        #expect(scratch.read("fw.rules.bak") == firstEdit)
        var backupInfo = stat()
        #expect(stat(path + ".bak", &backupInfo) == 0)
        #expect(backupInfo.st_mode & 0o7777 == 0o640)
        // No temporary files are left behind.
        var names: [String] = []
        if let stream = opendir(scratch.path) {
            while let entry = readdir(stream) {
                names.append(withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) })
            }
            closedir(stream)
        }
        #expect(names.filter { !$0.hasPrefix(".") || $0.contains("synwall-") }.sorted() == ["fw.rules", "fw.rules.bak"])
        // The saved file is still valid.
        #expect(throws: Never.self) { try RuleCompiler.compile(file: path).get() }
    }

    // MARK: - Line ends, symbolic links, comments that describe a rule

    static let described = """
    policy in drop

    # --- inbound ---
    block in from 203.0.113.1
    pass in proto tcp to port ssh

    # web: the shop
    pass in proto tcp to port http
    # mail, for the office
    #   (ask Ann before removing)
    pass in proto tcp to port smtp

    """

    static func crlf(_ text: String) -> String {
        String(decoding: text.utf8.flatMap { $0 == UInt8(ascii: "\n") ? [13, 10] : [$0] }, as: UTF8.self)
    }

    @Test func everyEditWorksOnCRLFFilesAndKeepsTheirLineEnds() throws {
        let crlf = Self.crlf(Self.described)
        var edited = try self.editor(crlf)
        #expect(edited.ruleset.rules.count == 4)
        try edited.add("pass in proto udp to port 53")
        try edited.insert("block in from 198.51.100.7", at: 2)
        try edited.move(from: 5, to: 1)
        try edited.delete(number: 4)
        let text = try #require(edited.text())
        // Every line still ends in CRLF, and no bare LF crept in.
        let bytes = Array(text.utf8)
        for (index, byte) in bytes.enumerated() where byte == UInt8(ascii: "\n") {
            #expect(index > 0 && bytes[index - 1] == UInt8(ascii: "\r"))
        }
        #expect(text.hasSuffix("\r\n"))
        #expect(edited.ruleset.rules.map(\.text) == [
            "pass in proto tcp to port smtp", "block in from 203.0.113.1", "block in from 198.51.100.7",
            "pass in proto tcp to port http", "pass in proto udp to port 53",
        ])
        // The same edits on the LF file give the same text, line ends apart.
        var plain = try editor(Self.described)
        try plain.add("pass in proto udp to port 53")
        try plain.insert("block in from 198.51.100.7", at: 2)
        try plain.move(from: 5, to: 1)
        try plain.delete(number: 4)
        #expect(text == plain.text().map(Self.crlf))
        #expect(plain.text()?.contains("\r") == false)
    }

    @Test func aCRLFFileWithoutAFinalLineEndAndAMixedFile() throws {
        var noEnd = try editor("# c\r\npass in all")
        try noEnd.add("block in from 10.0.0.1")
        #expect(noEnd.text() == "# c\r\npass in all\r\nblock in from 10.0.0.1")
        try noEnd.delete(number: 2)
        #expect(noEnd.text() == "# c\r\npass in all")
        // Lines keep their own ends; a new line takes the one most lines use.
        var mixed = try editor("pass in all\r\n# lf comment\nblock out all\r\n")
        try mixed.insert("pass out all", at: 2)
        #expect(mixed.text() == "pass in all\r\npass out all\r\n# lf comment\nblock out all\r\n")
    }

    @Test func insertGoesAboveTheCommentThatDescribesRuleN() throws {
        var editor = try editor(Self.described)
        try editor.insert("block in from 198.51.100.7", at: 4)
        var expected = lines(Self.described)
        expected.insert("block in from 198.51.100.7", at: 8)
        #expect(lines(editor.text()) == expected)
        #expect(editor.ruleset.rules[3].text == "block in from 198.51.100.7")
        // A comment heading a run of rules stays at its head.
        try editor.insert("block in from 198.51.100.8", at: 1)
        expected.insert("block in from 198.51.100.8", at: 3)
        #expect(lines(editor.text()) == expected)
    }

    @Test func moveCarriesTheRulesCommentAndLandsAboveTheNextRulesComment() throws {
        var editor = try editor(Self.described)
        let change = try editor.move(from: 4, to: 3)
        #expect(change.summary == "moved rule 4 to 3: pass in proto tcp to port smtp")
        #expect(lines(editor.text()) == lines("""
        policy in drop

        # --- inbound ---
        block in from 203.0.113.1
        pass in proto tcp to port ssh

        # mail, for the office
        #   (ask Ann before removing)
        pass in proto tcp to port smtp
        # web: the shop
        pass in proto tcp to port http

        """))
        // And to the end, after the last rule.
        try editor.move(from: 3, to: 4)
        #expect(lines(editor.text()) == lines("""
        policy in drop

        # --- inbound ---
        block in from 203.0.113.1
        pass in proto tcp to port ssh

        # web: the shop
        pass in proto tcp to port http
        # mail, for the office
        #   (ask Ann before removing)
        pass in proto tcp to port smtp

        """))
    }

    @Test func deleteTakesTheRulesOwnCommentButNotAHeading() throws {
        var editor = try editor(Self.described)
        try editor.delete(number: 4)
        #expect(lines(editor.text()) == lines("""
        policy in drop

        # --- inbound ---
        block in from 203.0.113.1
        pass in proto tcp to port ssh

        # web: the shop
        pass in proto tcp to port http

        """))
        try editor.delete(number: 1)
        try editor.delete(number: 2)
        #expect(lines(editor.text()) == lines("""
        policy in drop

        # --- inbound ---
        pass in proto tcp to port ssh


        """))
    }

    @Test func savingThroughASymbolicLinkEditsTheTargetAndKeepsTheLink() throws {
        let scratch = ScratchDirectory()
        let target = scratch.write("real.rules", "pass in all\n")
        chmod(target, 0o600)
        let link = scratch.path + "/synwall.rules"
        #expect(symlink("real.rules", link) == 0)
        var editor = try RuleFileEditor(path: link)
        try editor.add("block in from 10.0.0.1")
        #expect(try editor.save() == [link])
        var info = stat()
        #expect(lstat(link, &info) == 0)
        #expect(info.st_mode & S_IFMT == S_IFLNK)
        #expect(scratch.read("real.rules") == "pass in all\nblock in from 10.0.0.1\n")
        #expect(scratch.read("synwall.rules.bak") == "pass in all\n")
        #expect(stat(target, &info) == 0)
        #expect(info.st_mode & 0o7777 == 0o600)
    }
}
