import Testing
import Wire
@testable import Rules
#if canImport(Glibc)
import Glibc
#endif

/// A scratch directory, removed when the test ends.
final class ScratchDirectory {
    let path: String

    init() {
        var template = Array("/tmp/synwall-rules-test-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }
        path = made.map { String(cString: $0) } ?? "/tmp/synwall-rules-test-fallback"
    }

    /// Writes `text` to `name` inside the directory; returns the full path.
    @discardableResult
    func write(_ name: String, _ text: String) -> String {
        let full = path + "/" + name
        let directory = FileSystem.directory(of: full)
        mkdir(directory, 0o755)
        _ = FileSystem.writeAtomically(text, to: full)
        return full
    }

    func read(_ name: String) -> String? {
        if case .success(let text) = FileSystem.read(path + "/" + name) { return text }
        return nil
    }

    deinit {
        var directories = [path]
        var files: [String] = []
        var index = 0
        while index < directories.count {
            if let stream = opendir(directories[index]) {
                while let entry = readdir(stream) {
                    let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                        String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                    }
                    guard name != ".", name != ".." else { continue }
                    let full = directories[index] + "/" + name
                    if entry.pointee.d_type == UInt8(DT_DIR) { directories.append(full) } else { files.append(full) }
                }
                closedir(stream)
            }
            index += 1
        }
        for file in files { unlink(file) }
        for directory in directories.reversed() { rmdir(directory) }
    }
}

@Suite struct IncludeAndTableFileTests {
    @Test func includesAreRelativeToTheIncludingFileAndShareMacros() throws {
        let scratch = ScratchDirectory()
        scratch.write("sub/common.rules", "pass in proto tcp to port $port label \"from include\"\ninclude \"deeper/more.rules\"\n")
        scratch.write("sub/deeper/more.rules", "table <t> { 192.0.2.0/24 }\n")
        let main = scratch.write("main.rules", "port = 22\ninclude \"sub/common.rules\"\nblock in from <t>\n")
        let ruleset = try RuleCompiler.compile(file: main).get()
        #expect(ruleset.rules.map(\.text) == ["pass in proto tcp to port $port label \"from include\"", "block in from <t>"])
        #expect(ruleset.rules[0].location == Rules.SourceLocation(file: scratch.path + "/sub/common.rules", line: 1, column: 1))
        #expect(ruleset.files == [main, scratch.path + "/sub/common.rules", scratch.path + "/sub/deeper/more.rules"])
        #expect(ruleset.decidingRule(syn("192.0.2.5", 1, "10.0.0.1", 80)) == 2)
    }

    @Test func includeCyclesAreReportedWithTheChain() throws {
        let scratch = ScratchDirectory()
        scratch.write("a.rules", "include \"b.rules\"\n")
        scratch.write("b.rules", "pass in all\ninclude \"a.rules\"\n")
        let main = scratch.path + "/a.rules"
        let lines = diagnosticsOfFile(main).map { $0.description.split(separator: "\n")[0] }
        #expect(lines == ["\(scratch.path)/b.rules:2:9: error: include cycle: \(scratch.path)/a.rules -> \(scratch.path)/b.rules -> \(scratch.path)/a.rules"])
        let selfInclude = scratch.write("self.rules", "include \"self.rules\"\n")
        #expect(diagnosticsOfFile(selfInclude).first?.message == "include cycle: \(selfInclude) -> \(selfInclude)")
        #expect(diagnosticsOfFile(selfInclude).first?.hint == "remove this include, or the one that leads back here")
    }

    @Test func missingFilesAreErrorsAtTheirStatement() throws {
        let scratch = ScratchDirectory()
        let main = scratch.write("main.rules", "include \"nope.rules\"\ntable <t> file \"nope.txt\"\nblock from <t>\n")
        let found = diagnosticsOfFile(main)
        #expect(found.map(\.description) == [
            """
            \(main):1:9: error: cannot read included file '\(scratch.path)/nope.rules': No such file or directory
                include "nope.rules"
                        ^~~~~~~~~~~~
                hint: paths are relative to the including file
            """,
            """
            \(main):2:16: error: cannot read table file '\(scratch.path)/nope.txt': No such file or directory
                table <t> file "nope.txt"
                               ^~~~~~~~~~
                hint: paths are relative to the rule file
            """,
        ])
        let missing = diagnosticsOfFile(scratch.path + "/absent.rules")
        #expect(missing.map(\.description) == [
            "\(scratch.path)/absent.rules:1:1: error: cannot read the rule file: No such file or directory\n"
                + "    hint: is the path right? (without one, commands use /etc/synwall/synwall.rules)",
        ])
    }

    @Test func tooDeepIncludesStop() {
        let scratch = ScratchDirectory()
        for level in 0..<20 { scratch.write("l\(level).rules", "include \"l\(level + 1).rules\"\n") }
        scratch.write("l20.rules", "pass all\n")
        let found = diagnosticsOfFile(scratch.path + "/l0.rules")
        #expect(found.map(\.message) == ["includes nested too deeply (more than 16 levels)"])
        #expect(found.first?.location.file == scratch.path + "/l15.rules")
    }

    @Test func tableFilesLoadWithCommentsExclusionsAndErrorsAtTheirOwnLines() throws {
        let scratch = ScratchDirectory()
        scratch.write("lists/blocked.txt", """
        # blocked networks
        198.51.100.0/24   # a scanner
        203.0.113.0/24, !203.0.113.7
        \t2001:db8:bad::/48

        """)
        let main = scratch.write("main.rules", "table <blocked> file \"lists/blocked.txt\" { 192.0.2.1 }\nblock in from <blocked>\n")
        let ruleset = try RuleCompiler.compile(file: main).get()
        #expect(ruleset.decidingRule(syn("198.51.100.9", 1, "10.0.0.1", 22)) == 1)
        #expect(ruleset.decidingRule(syn("203.0.113.9", 1, "10.0.0.1", 22)) == 1)
        #expect(ruleset.decidingRule(syn("203.0.113.7", 1, "10.0.0.1", 22)) == 0)
        #expect(ruleset.decidingRule(syn("192.0.2.1", 1, "10.0.0.1", 22)) == 1)
        #expect(ruleset.decidingRule(syn("2001:db8:bad::1", 1, "2001:db8::1", 22)) == 1)
        #expect(ruleset.files == [main, scratch.path + "/lists/blocked.txt"])

        scratch.write("lists/bad.txt", "10.0.0.0/8\n  10.0.0.300 # typo\n10.0.0.0/40\n")
        let bad = scratch.write("bad.rules", "table <t> file \"lists/bad.txt\"\nblock from <t>\n")
        #expect(diagnosticsOfFile(bad).map { $0.description.split(separator: "\n")[0] } == [
            "\(scratch.path)/lists/bad.txt:2:3: error: invalid address '10.0.0.300'",
            "\(scratch.path)/lists/bad.txt:3:1: error: invalid prefix length '/40' for IPv4 (0-32)",
        ])
    }

    @Test func aFloodOfBadTableEntriesIsCapped() {
        let scratch = ScratchDirectory()
        scratch.write("junk.txt", (0..<50).map { "junk\($0)" }.joined(separator: "\n"))
        let main = scratch.write("main.rules", "table <t> file \"junk.txt\"\nblock from <t>\n")
        let found = diagnosticsOfFile(main)
        // 19 entries and the line that counts the rest: 20 errors, the compile's error limit.
        #expect(found.count == 20)
        #expect(found.last?.message == "31 more invalid entries not shown")
    }

    @Test func overridesReplaceFilesOnDisk() throws {
        let scratch = ScratchDirectory()
        let included = scratch.write("inc.rules", "pass in all\n")
        let main = scratch.write("main.rules", "include \"inc.rules\"\n")
        let ruleset = try RuleCompiler.compile(file: main, overrides: [included: "block in all\n"]).get()
        #expect(ruleset.rules.first?.action == .block)
    }

    func diagnosticsOfFile(_ path: String) -> [Diagnostic] {
        switch RuleCompiler.compile(file: path) {
        case .success(let ruleset): return ruleset.warnings
        case .failure(let diagnostics): return diagnostics.items
        }
    }
}
