import Testing
@testable import Rules
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Files that are no rule file at all, or rule files built to blow up: each ends in one clear
/// error within the bounds of `InputLimits`.
@Suite struct HostileInputTests {
    /// Writes raw bytes (not necessarily text) to `name` in `scratch`.
    @discardableResult
    func writeBytes(_ scratch: ScratchDirectory, _ name: String, _ bytes: [UInt8]) -> String {
        let path = scratch.path + "/" + name
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        return path
    }

    func failure(_ result: Result<CompiledRuleset, Diagnostics>) -> Diagnostics? {
        if case .failure(let diagnostics) = result { return diagnostics }
        Issue.record("expected the compile to fail")
        return nil
    }

    @Test func aNulByteStopsTheFileAtItsLineAndColumn() throws {
        let found = try #require(failure(RuleCompiler.compile(text: "pass in proto tcp\npass i\u{0}n\n", path: "bin.rules")))
        #expect(found.items.count == 1)
        #expect(found.description == """
            bin.rules:2:7: error: not a text file (a NUL byte at byte 24)
                hint: rule and table files are UTF-8 text; is this the file you meant?
            1 error
            """)
    }

    @Test func invalidUTF8IsRefusedAtTheFirstBadByte() throws {
        let scratch = ScratchDirectory()
        // "ok" line, then é correctly, then a lone continuation byte.
        let path = writeBytes(scratch, "bad.rules", Array("pass all\n# é ".utf8) + [0x80, 0x41, 0x0A])
        let found = try #require(failure(RuleCompiler.compile(file: path)))
        #expect(found.items.map(\.description) == [
            "\(path):2:5: error: not a text file (a byte 0x80 that is not UTF-8 at byte 14)\n"
                + "    hint: rule and table files are UTF-8 text; is this the file you meant?",
        ])
        // Overlong forms and surrogates are not UTF-8 either.
        for bad: [UInt8] in [[0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82]] {
            writeBytes(scratch, "bad.rules", Array("pass all ".utf8) + bad)
            let again = try #require(failure(RuleCompiler.compile(file: path)))
            #expect(again.items.first?.message.hasPrefix("not a text file") == true, "\(bad)")
        }
    }

    @Test func aBinaryIsOneErrorInLittleMemory() throws {
        let scratch = ScratchDirectory()
        // An ELF-like header, then 4 MB of bytes with few newlines and NULs late.
        var random = SplitMix64(seed: 7)
        var bytes: [UInt8] = [0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x01, 0x00]
        bytes += (0..<(4 << 20)).map { _ in UInt8(truncatingIfNeeded: random.next()) | 1 }
        let path = writeBytes(scratch, "binary", bytes)
        let found = try #require(failure(RuleCompiler.compile(file: path)))
        #expect(found.items.map(\.message) == ["not a text file (a NUL byte at byte 7)"])
        #expect(found.description.utf8.count < 300)
        // What it costs in memory is measured on `synwall check`, in a process of its own
        // (IntegrationTests/HostileFileMemoryTests).
        // Garbage that is valid UTF-8 but no rules: at most 20 errors, then the stop line.
        let text = String(repeating: "(é) (é) (é)\n", count: 20_000)
        let errors = try #require(failure(RuleCompiler.compile(text: text, path: "garbage.rules")))
        #expect(errors.errors.count == 20)
        #expect(errors.stoppedAt != nil)
        #expect(errors.description.contains("garbage.rules:4:3: error: too many errors (20 shown), stopping"))
        #expect(errors.description.hasSuffix("\n20 errors, stopped early"))
        #expect(errors.description.utf8.count < 20 * 500)
    }

    @Test func tooLongALineIsRefused() throws {
        let line = "pass in proto tcp from { " + String(repeating: "192.0.2.1, ", count: 7_000) + "}\n"
        let found = try #require(failure(RuleCompiler.compile(text: "pass all\n" + line, path: "long.rules")))
        #expect(found.items.map(\.description) == [
            "long.rules:2:1: error: line 2 is longer than 64 KiB\n"
                + "    hint: rule and table files are text with lines of at most 64 KiB; split a long list over several lines, or is this the file you meant?",
        ])
        // The same list over several lines is fine.
        let split = "pass in proto tcp from {\n" + String(repeating: "192.0.2.1,\n", count: 7_000) + "}\n"
        if case .failure(let diagnostics) = RuleCompiler.compile(text: split, path: "split.rules") {
            Issue.record("\(diagnostics)")
        }
    }

    @Test func quotesOfLongLinesAreCutAroundTheColumn() {
        let text = "pass in proto tcp label \"" + String(repeating: "a", count: 3_000) + "\" bogus from any\n"
        let found = diagnostics(text, path: "wide.rules")
        #expect(found.count == 1)
        let lines = found[0].description.split(separator: "\n").map(String.init)
        #expect(lines[0] == "wide.rules:1:3028: error: unknown keyword 'bogus'")
        let quote = lines[1], caret = lines[2]
        #expect(quote.count <= 4 + 102)
        #expect(quote.hasPrefix("    …a") && quote.hasSuffix("\" bogus from any"))
        // The caret still sits under the word it names.
        let caretOffset = caret.firstIndex(of: "^").map { caret.distance(from: caret.startIndex, to: $0) }
        let wordOffset = (0..<quote.count).first { quote.dropFirst($0).hasPrefix("bogus") }
        #expect(caretOffset != nil && caretOffset == wordOffset)
        #expect(caret.hasSuffix("^~~~~"))
        // A word longer than a message holds is cut in the message too.
        let huge = diagnostics("pass in proto tcp " + String(repeating: "x", count: 10_000) + "\n")
        #expect(huge.first.map { $0.message.count <= Diagnostic.maximumMessageLength } == true)
        #expect(huge.first.map { $0.description.count < 800 } == true)
    }

    @Test func fileSizeCapIsStatedAndCanBeRaised() throws {
        let scratch = ScratchDirectory()
        let table = scratch.write("big.txt", String(repeating: "192.0.2.0/24\n", count: 1_000))  // 13,000 bytes
        let main = scratch.write("main.rules", "table <t> file \"big.txt\"\nblock from <t>\n")
        let small = InputLimits(ruleFileBytes: 8_192, tableFileBytes: 8_192)
        let found = try #require(failure(RuleCompiler.compile(file: main, limits: small)))
        #expect(found.items.map(\.description) == [
            "\(main):1:16: error: table file '\(table)' has 13000 bytes, over the cap of 8 KiB\n"
                + "    table <t> file \"big.txt\"\n"
                + "                   ^~~~~~~~~\n"
                + "    hint: is this the file you meant? if so, set limit file-size SIZE before it raises the cap "
                + "(synwall check --max-file-size SIZE for one check)",
        ])
        // `set limit file-size` raises it for the files read after it.
        scratch.write("main.rules", "set limit file-size 16K\ntable <t> file \"big.txt\"\nblock from <t>\n")
        if case .failure(let diagnostics) = RuleCompiler.compile(file: main, limits: small) { Issue.record("\(diagnostics)") }
        // The main file itself: the error is at its line 1; --max-file-size is withFileSize.
        let tiny = InputLimits(ruleFileBytes: 4_096)
        scratch.write("main.rules", String(repeating: "pass all\n", count: 500))
        let mainTooBig = try #require(failure(RuleCompiler.compile(file: main, limits: tiny)))
        #expect(mainTooBig.items.first?.location == SourceLocation(file: main, line: 1, column: 1))
        #expect(mainTooBig.items.first?.message == "rule file '\(main)' has 4500 bytes, over the cap of 4 KiB")
        if case .failure(let diagnostics) = RuleCompiler.compile(file: main, limits: tiny.withFileSize(8_192)) {
            Issue.record("\(diagnostics)")
        }
        // Something that is not a regular file is cut off at the cap, not read to its end.
        let zero = try #require(failure(RuleCompiler.compile(text: "include \"/dev/zero\"\n", path: "z.rules", limits: tiny)))
        #expect(zero.items.map(\.message) == ["rule file '/dev/zero' gave more than the cap of 4 KiB (it is not a regular file)"])
    }

    @Test func macroBombsStopAtTheExpansionCap() throws {
        // Each macro doubles the one before: m30 would be a billion tokens.
        var text = "m0 = 22\n"
        for level in 1...30 { text += "m\(level) = $m\(level - 1), $m\(level - 1)\n" }
        text += "pass in proto tcp to port { $m30 }\n"
        let found = try #require(failure(RuleCompiler.compile(text: text, path: "bomb.rules")))
        #expect(found.items.first?.message == "macro expansion too large: more than 65536 tokens in one statement")
        #expect(found.items.first?.location.line == 17)  // m16: 131,071 tokens
        #expect(found.errors.count <= 20)
        // Its memory: IntegrationTests/HostileFileMemoryTests.

        // Many statements each under the cap add up to the total cap.
        var wide = "m0 = 22\n"
        for level in 1...10 { wide += "m\(level) = $m\(level - 1), $m\(level - 1)\n" }  // 2,047 tokens
        wide += String(repeating: "pass in proto tcp to port { $m10 }\n", count: 100)
        let total = try #require(failure(RuleCompiler.compile(text: wide, path: "wide.rules",
                                                              limits: InputLimits(totalExpandedTokens: 200_000))))
        #expect(total.items.map(\.message) == ["macros expand to more than 200000 tokens in all; stopping"])
    }

    @Test func includeFanOutStopsAtTheFileCap() throws {
        let scratch = ScratchDirectory()
        // Each level includes the next twice: 2^12 files without a cycle.
        for level in 0..<12 {
            scratch.write("f\(level).rules", "include \"f\(level + 1).rules\"\ninclude \"f\(level + 1).rules\"\n")
        }
        scratch.write("f12.rules", "pass all\n")
        let found = try #require(failure(RuleCompiler.compile(file: scratch.path + "/f0.rules")))
        #expect(found.items.first?.message == "more than 1024 files read in one compile")
        #expect(found.errors.count <= 20)
    }

    @Test func shadowAnalysisFindsWhatTheFullComparisonFinds() {
        // Rules with a few ports, some without, some with wide ranges: the indexed analysis
        // must report exactly the rules (and shadows) that comparing every pair reports.
        var random = SplitMix64(seed: 42)
        var text = ""
        for _ in 0..<400 {
            let port = 20 + Int(random.next() % 6)
            let net = Int(random.next() % 3)
            switch random.next() % 6 {
            case 0: text += "pass in proto tcp from 10.\(net).0.0/16\n"
            case 1: text += "pass in proto tcp to port 1:1000\n"
            case 2: text += "block in proto tcp from 10.\(net).1.0/24 to port { \(port), \(port + 1) }\n"
            case 3: text += "pass in proto { tcp, udp } to port \(port)\n"
            default: text += "pass in proto tcp from 10.\(net).\(random.next() % 3).0/24 to port \(port)\n"
            }
        }
        guard let ruleset = compiled(text) else { return }
        let indexed = ruleset.warnings.filter { $0.message.contains("can never match") }.map(\.message)
        var naive: [String] = []
        let matchers = Array(ruleset.matchers)
        for later in matchers.indices {
            for earlier in 0..<later where ShadowAnalysis.covers(matchers[earlier], matchers[later]) {
                naive.append("rule \(later + 1) can never match: rule \(earlier + 1) "
                    + "(\(ruleset.rules[earlier].location.fileAndLine)) matches every packet it would")
                break
            }
        }
        #expect(naive.count > 50)
        #expect(indexed == naive)
        #expect(ruleset.shadowAnalysis.isComplete)
        #expect(ruleset.shadowAnalysis.note == nil)
    }

    @Test func shadowAnalysisIsBoundedAndSaysSo() {
        // Rules that share their port meet each other: the budget ends the analysis.
        let text = (0..<3_000).map { "pass in proto tcp from 10.\($0 / 250).\($0 % 250).0/24 to port 22\n" }.joined()
        guard let ruleset = compiled(text) else { return }
        let rules = ruleset.rules, matchers = Array(ruleset.matchers)
        let outcome = ShadowAnalysis.analyze(rules: rules, matchers: matchers, budget: 100_000) { _ in "" }
        #expect(!outcome.summary.isComplete)
        #expect(outcome.summary.checkedRules > 100 && outcome.summary.checkedRules < 3_000)
        #expect(outcome.summary.note == "shadowed-rule analysis stopped after rule \(outcome.summary.checkedRules) of 3000 "
            + "(it makes at most 100000 rule comparisons); rules after that were not checked")
    }
}
