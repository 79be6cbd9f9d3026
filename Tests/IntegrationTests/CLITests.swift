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

    @Test func helpNamesEveryCommandAndOption() throws {
        let root = try synwall("--help")
        #expect(root.status == 0)
        for command in ["run", "replay", "demo"] { #expect(root.stdout.contains("  \(command) ")) }
        #expect(!root.stdout.contains("peer"))  // hidden helper
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
