import Foundation
import Testing

/// The command line is an interface: errors, exit codes and help are asserted verbatim.
@Suite struct CLITests {
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    func synwall(_ arguments: String...) throws -> Outcome {
        try synwall(arguments)
    }

    func synwall(_ arguments: [String]) throws -> Outcome {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Harness.synwallBinary())
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                       stderr: String(decoding: stderr, as: UTF8.self))
    }

    @Test func unknownOptionIsOneLineAndExit64() throws {
        let result = try synwall("run", "--bogus")
        #expect(result.status == 64)
        #expect(result.stderr == "synwall: error: Unknown option '--bogus'. Did you mean '--log'? (see 'synwall help')\n")
        #expect(result.stdout.isEmpty)
    }

    @Test func aMistypedCommandGetsADidYouMean() throws {
        let cases: [([String], String)] = [
            (["rulez"], "unknown command 'rulez'; did you mean 'rules'?"),
            (["explian", "tcp"], "unknown command 'explian'; did you mean 'explain'?"),
            (["rules", "lst"], "unknown command 'lst' for 'synwall rules'; did you mean 'list'?"),
            (["rules", "frob"], "unknown command 'frob' for 'synwall rules'; 'synwall rules' takes one of: list, add, insert, delete, move"),
            (["xyzzy"], "unknown command 'xyzzy'; 'synwall' takes one of: run, reload, replay, check, explain, rules, log, "
                + "stats, conns, table, trace, bench, demo, state, help"),
        ]
        for (arguments, message) in cases {
            let process = try synwall(arguments)
            #expect(process.status == 64, "\(arguments)")
            #expect(process.stderr == "synwall: error: \(message) (see 'synwall help')\n", "\(arguments)")
        }
        // Extra words after a real command keep the parser's own message.
        #expect(try synwall(["check", "a", "b"]).stderr == "synwall: error: Unexpected argument 'b' (see 'synwall help')\n")
    }

    @Test func conflictingOptionsAreRejectedBeforeAnythingHappens() throws {
        let both = try synwall("run", "--queue", "1", "--queues", "2-3")
        #expect(both.status == 64)
        #expect(both.stderr == "synwall: error: use either --queue or --queues, not both (see 'synwall help')\n")
        let hook = try synwall("run", "--attach", "none", "--hook", "input")
        #expect(hook.stderr.hasPrefix("synwall: error: --hook has no effect with --attach none"))
        let range = try synwall("run", "--queues", "5-2")
        #expect(range.status == 64)
        #expect(range.stderr.split(separator: "\n").count == 1)
        let maxlen = try synwall("run", "--queue-maxlen", "70000")
        #expect(maxlen.stderr == "synwall: error: --queue-maxlen must be between 1 and 65536 (the kernel holds at most 65536) (see 'synwall help')\n")
    }

    @Test func replayOfAMissingFileIsExit2() throws {
        let result = try synwall("replay", "/nonexistent/capture.pcap")
        #expect(result.status == 2)
        #expect(result.stderr == "synwall: error: cannot open capture file '/nonexistent/capture.pcap': No such file or directory; give the path of a readable pcap or pcapng file\n")
    }

    @Test func replayOfAFileThatIsNotACaptureIsExit2() throws {
        let path = Harness.packageRoot.appendingPathComponent("Tests/CaptureTests/Fixtures/not-a-capture.txt").path
        let result = try synwall("replay", path)
        #expect(result.status == 2)
        #expect(result.stderr.hasPrefix("synwall: error: "))
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    @Test func replayPrintsOneJSONObjectPerPacketThenTheSummary() throws {
        let path = Harness.packageRoot.appendingPathComponent("Tests/CaptureTests/Fixtures/raw.pcap").path
        let result = try synwall("replay", path)
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 7)
        #expect(lines.last?.hasPrefix("{\"summary\":{\"packets\":6,\"accepted\":6,\"dropped\":0,") == true)
        let summaryOnly = try synwall("replay", "--summary", path)
        #expect(summaryOnly.stdout.split(separator: "\n").count == 1)
    }

    @Test func explainLeadsWithThePipelinesVerdictAndExitStatus() throws {
        let rules = FileManager.default.temporaryDirectory.appendingPathComponent("synwall-explain-\(getpid()).rules")
        try "policy in drop\npass in proto tcp to port ssh\n".write(to: rules, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: rules) }
        let xmas = try synwall("explain", "--rules", rules.path, "--exit-status", "tcp 203.0.113.7:51000 > 192.0.2.10:22 flags FPU")
        #expect(xmas.status == 3, "\(xmas)")
        #expect(xmas.stdout.hasPrefix("verdict: drop (invalid_flags, flags_xmas: the tracker drops it before the rules see it)\n"))
        let syn = try synwall("explain", "--rules", rules.path, "--exit-status", "tcp 203.0.113.7:51000 > 192.0.2.10:22 flags S")
        #expect(syn.status == 0, "\(syn)")
        #expect(syn.stdout.hasPrefix("verdict: pass"))
        let web = try synwall("explain", "--rules", rules.path, "--exit-status", "tcp 203.0.113.7:51000 > 192.0.2.10:80")
        #expect(web.status == 3)
        // Without --exit-status a drop is still status 0: the explanation itself succeeded.
        let plain = try synwall("explain", "--rules", rules.path, "tcp 203.0.113.7:51000 > 192.0.2.10:22 flags SR")
        #expect(plain.status == 0)
        #expect(plain.stdout.hasPrefix("verdict: drop (invalid_flags, flags_syn_rst:"))
    }

    @Test func checkExplainAndRulesListEscapeWhatTableFilesAndLabelsHold() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("synwall-escape-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let rules = directory.appendingPathComponent("fw.rules").path
        let table = directory.appendingPathComponent("blocklist.txt").path
        try "table <bl> file \"blocklist.txt\"\npass in from <bl> label \"x\u{1B}]0;PWNED\u{07}y\"\n"
            .write(toFile: rules, atomically: true, encoding: .utf8)
        try "203.0.113.0/24\n".write(toFile: table, atomically: true, encoding: .utf8)
        let list = try synwall("rules", "list", "--file", rules)
        #expect(list.stdout.contains("label \"x\\x1b]0;PWNED\\x07y\""), "\(list)")
        let explain = try synwall("explain", "--rules", rules, "tcp 203.0.113.7:5 > 192.0.2.1:22")
        #expect(explain.stdout.contains("label:   x\\x1b]0;PWNED\\x07y\n"), "\(explain)")
        // A blocklist line with an escape sequence: check quotes it escaped.
        try "203.0.113.0/24\n10.0.0.1\u{1B}[2J\n".write(toFile: table, atomically: true, encoding: .utf8)
        let check = try synwall("check", rules)
        #expect(check.status == 1)
        #expect(check.stderr.contains("invalid address '10.0.0.1\\x1b[2J'"), "\(check)")
        for output in [list.stdout, list.stderr, explain.stdout, explain.stderr, check.stdout, check.stderr] {
            #expect(!output.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\u{07}" }, "raw control characters: \(output)")
        }
    }

    @Test func replayOfAFileDamagedAtTheEndPrintsItsTotalsThenExits2() throws {
        let path = Harness.packageRoot.appendingPathComponent("Tests/CaptureTests/Fixtures/truncated.pcap").path
        let result = try synwall("replay", "--summary", path)
        #expect(result.status == 2)
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.hasPrefix("{\"summary\":{\"packets\":1,\"accepted\":1,\"dropped\":0,") == true)
        #expect(lines.first?.contains("\"error\":\"capture file '\(path)' is damaged at frame 3: ") == true)
        #expect(result.stderr.hasPrefix("synwall: error: capture file '\(path)' is damaged at frame 3: "))
        #expect(result.stderr.split(separator: "\n").count == 1)
        let full = try synwall("replay", path)
        #expect(full.status == 2)
        #expect(full.stdout.split(separator: "\n").count == 2)  // one packet, then the summary
    }

    @Test func logHistogramByChecksItsKeyAndNeedsHistogram() throws {
        #expect(try synwall("log", "--by", "reason").stderr
            == "synwall: error: --by applies to --histogram; add --histogram (see 'synwall help')\n")
        #expect(try synwall("log", "--histogram", "--by", "reasons").stderr
            == "synwall: error: --by 'reasons' is not a key; use one of src, dst, port, reason, rule (see 'synwall help')\n")
        #expect(try synwall("log", "--log-scale").stderr
            == "synwall: error: --log-scale applies to --histogram; add --histogram (see 'synwall help')\n")
    }

    @Test func helpNamesEveryCommandAndOption() throws {
        let root = try synwall("--help")
        #expect(root.status == 0)
        for command in ["run", "replay", "demo"] { #expect(root.stdout.contains("  \(command) ")) }
        #expect(!root.stdout.contains("peer"))  // the test bed's, not synwall's
        let run = try synwall("run", "--help")
        for option in ["--rules", "--queue ", "--queues", "--attach", "--hook", "--fail-open", "--log", "--policy",
                       "--queue-maxlen", "--copy-range", "--receive-buffer", "--verify-checksums"]
        {
            #expect(run.stdout.contains(option), "run --help lacks \(option)")
        }
        #expect(run.stdout.contains("fails closed by default"))
        let replay = try synwall("help", "replay")
        #expect(replay.stdout.contains("--summary"))
    }

    /// `synwall ARGUMENTS` under /usr/bin/time: the outcome and the peak resident memory (kB).
    func measured(_ arguments: [String]) throws -> (Outcome, Int) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/time")
        process.arguments = ["-f", "peak-kB %M", try Harness.synwallBinary()] + arguments
        let err = Pipe()
        process.standardOutput = FileHandle.nullDevice  // what is asserted goes to stderr
        process.standardError = err
        try process.run()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        var errorText = String(decoding: stderr, as: UTF8.self)
        var peak = Int.max
        if let range = errorText.range(of: "peak-kB ", options: .backwards) {
            peak = Int(errorText[range.upperBound...].trimmingCharacters(in: .whitespacesAndNewlines)) ?? Int.max
            errorText = String(errorText[..<range.lowerBound])
        }
        // time(1) says so when the status is not 0; that line is its, not synwall's.
        if let line = errorText.range(of: "Command exited with non-zero status", options: .backwards) {
            errorText = String(errorText[..<line.lowerBound])
        }
        return (Outcome(status: process.terminationStatus, stdout: "", stderr: errorText), peak)
    }

    /// A binary passed by mistake once took `synwall check` past 17 GB; now each is one
    /// error, in little memory and time.
    @Test func checkOfABinaryOrGarbageIsOneClearErrorInBoundedMemory() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("synwall-cli-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // 15 MB of an ELF executable (the synwall binary itself, repeated if it is smaller).
        let elf = try Data(contentsOf: URL(fileURLWithPath: try Harness.synwallBinary()))
        var binary = Data()
        while binary.count < 15_000_000 { binary.append(elf.prefix(15_000_000 - binary.count)) }
        let binaryPath = directory.appendingPathComponent("binary").path
        try binary.write(to: URL(fileURLWithPath: binaryPath))
        // 15 MB of valid UTF-8 that is no rule file at all.
        let garbagePath = directory.appendingPathComponent("garbage.rules").path
        try String(repeating: "(((( é ))))\n", count: 1_200_000).write(toFile: garbagePath, atomically: false, encoding: .utf8)
        // A macro that doubles itself forty times.
        var bomb = "m0 = 22\n"
        for level in 1...40 { bomb += "m\(level) = $m\(level - 1), $m\(level - 1)\n" }
        bomb += "pass in proto tcp to port { $m40 }\n"
        let bombPath = directory.appendingPathComponent("bomb.rules").path
        try bomb.write(toFile: bombPath, atomically: false, encoding: .utf8)

        let (binaryOutcome, binaryPeak) = try measured(["check", binaryPath])
        #expect(binaryOutcome.status == 1)
        #expect(binaryOutcome.stderr == "\(binaryPath):1:8: error: not a text file (a NUL byte at byte 7)\n"
            + "    hint: rule and table files are UTF-8 text; is this the file you meant?\n1 error\n")
        #expect(binaryPeak < 200_000, "peak \(binaryPeak) kB")

        let (garbageOutcome, garbagePeak) = try measured(["check", garbagePath])
        #expect(garbageOutcome.status == 1)
        #expect(garbageOutcome.stderr.contains("error: too many errors (20 shown), stopping\n20 errors, stopped early\n"))
        #expect(garbageOutcome.stderr.utf8.count < 20_000)
        #expect(garbagePeak < 300_000, "peak \(garbagePeak) kB")

        let (bombOutcome, bombPeak) = try measured(["check", bombPath])
        #expect(bombOutcome.status == 1)
        #expect(bombOutcome.stderr.hasPrefix("\(bombPath):17:13: error: macro expansion too large: more than 65536 tokens in one statement"))
        #expect(bombPeak < 200_000, "peak \(bombPeak) kB")

        // The size cap is stated, and --max-file-size raises it.
        let (tooBig, _) = try measured(["check", "--max-file-size", "4M", binaryPath])
        #expect(tooBig.stderr.hasPrefix("\(binaryPath):1:1: error: rule file '\(binaryPath)' has 15000000 bytes, over the cap of 4 MiB"))
    }
}

/// One configuration path and a binary that says what it is.
@Suite struct DefaultRuleFileTests {
    let installed = "/etc/synwall/synwall.rules"

    func synwall(_ arguments: String...) throws -> CLITests.Outcome {
        try CLITests().synwall(arguments)
    }

    func synwall(_ arguments: [String]) throws -> CLITests.Outcome {
        try CLITests().synwall(arguments)
    }

    @Test("--version names the version and the commit")
    func versionNamesVersionAndCommit() throws {
        let result = try synwall("--version")
        #expect(result.status == 0)
        // `synwall 0.1.0 (commit 1a2b3c4d5e6f)`; a plain `swift build` says `commit unknown`.
        let line = result.stdout.trimmingCharacters(in: .newlines)
        #expect(line.range(of: #"^synwall [0-9]+\.[0-9]+\.[0-9]+ \(commit ([0-9a-f]{7,40}(-dirty)?|unknown)\)$"#,
                            options: .regularExpression) != nil, "\(result)")
    }

    @Test("run, check, explain, rules list and reload default to /etc/synwall/synwall.rules, and say so when it is absent")
    func everyCommandDefaultsToTheInstalledFile() throws {
        let commands: [([String], String)] = [
            (["check"], "synwall check FILE"),
            (["explain", "tcp 203.0.113.7:5 > 192.0.2.1:22"], "--rules FILE"),
            (["rules", "list"], "--file FILE"),
            (["run"], "--rules FILE (or --rules none)"),
        ]
        let present = FileManager.default.fileExists(atPath: installed)
        for (arguments, override) in commands {
            let result = try synwall(arguments)
            if present {
                // Installed here (the package is): the commands read it, and name no other file.
                #expect(!result.stderr.contains("rules/default.rules") && !result.stderr.contains("no rule file"),
                        "\(arguments): \(result)")
                continue
            }
            #expect(result.status == 1, "\(arguments): \(result)")
            #expect(result.stderr == "synwall: error: no rule file at \(installed) (the default): create it (examples "
                    + "in /usr/share/doc/synwall/examples, or rules/ in the source tree), or name one with \(override)\n",
                    "\(arguments): \(result)")
            #expect(result.stdout.isEmpty)
        }
        // A named file that is missing: its own error, and the hint does not repeat the failed path.
        let missing = try synwall("check", "/nonexistent/fw.rules")
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("/nonexistent/fw.rules:1:1: error: cannot read the rule file"), "\(missing)")
        #expect(missing.stderr.contains("hint: is the path right? (without one, commands use \(installed))"), "\(missing)")
        // From the source tree, check no longer falls back to rules/default.rules.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try Harness.synwallBinary())
        process.arguments = ["check"]
        process.currentDirectoryURL = Harness.packageRoot
        let err = Pipe()
        process.standardError = err
        process.standardOutput = Pipe()
        try process.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(!text.contains("rules/default.rules"), "\(text)")
        if !present { #expect(process.terminationStatus == 1, "\(text)") }
    }

    @Test("reload without a daemon: no control socket and no pid is an error, and nothing is checked first")
    func reloadWithoutDaemon() throws {
        let result = try synwall("reload", "--control", "/nonexistent/control.sock", "--pid-file", "/nonexistent/synwall.pid")
        #expect(result.status == 1, "\(result)")
        #expect(result.stderr == "synwall: error: no running synwall: no control socket at /nonexistent/control.sock "
                + "and no pid in /nonexistent/synwall.pid\n", "\(result)")
    }
}
