import EventLog
import Foundation
import LogReview
import LogTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

private let base: UInt64 = 1_795_554_191 * 1_000_000_000
private let minute: UInt64 = 60_000_000_000

/// The `synwall` executable built next to the test bundle (`swift build --build-tests` builds it).
private func synwallBinary() throws -> String {
    let candidates = [
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("synwall").path,
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/debug/synwall").path,
    ]
    guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
        Issue.record("the synwall executable is not built; run `swift build --build-tests` first (looked in \(candidates))")
        throw CocoaError(.fileNoSuchFile)
    }
    return found
}

private func synwall(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
    try runProcess(try synwallBinary(), ["log"] + arguments, environment: ["PATH": "/usr/bin:/bin", "TZ": "UTC"])
}

/// The synwall CLI as a user runs it: output formats, errors and exit codes, verbatim.
@Suite(.serialized) struct LogCommandTests {
    private func sampleLog(_ directory: ScratchDirectory) throws -> String {
        try directory.write("events.jsonl.1", jsonLines([
            sampleDrop("203.0.113.7", reason: "bad_seq", at: base),
            sampleDrop("198.51.100.2", port: 80, reason: "invalid_flags", at: base + minute),
        ]) + "not json\n")
        try gzipFile(directory.path("events.jsonl.1"))
        try directory.write("events.jsonl", jsonLines([
            sampleDrop("203.0.113.7", reason: "bad_seq", at: base + 2 * minute, rule: EventRule(file: "/etc/synwall/a.rules", line: 4, label: "ssh")),
        ]))
        return directory.path("events.jsonl")
    }

    @Test func jsonFilteredAcrossAGzippedRotationWithAWarning() throws {
        let directory = try ScratchDirectory()
        let path = try sampleLog(directory)
        let result = try synwall([path, "--reason", "bad_seq", "--json"])
        #expect(result.status == 0)
        let events = parseLines(result.out).events
        #expect(events.map(\.timestampNanoseconds) == [base, base + 2 * minute])
        #expect(result.err == "synwall: warning: \(path).1.gz:3: skipped a malformed line: column 1: "
            + "a record must be a JSON object starting with '{'\n")
    }

    @Test func notATerminalMeansJSONUnlessATableIsAsked() throws {
        let directory = try ScratchDirectory()
        let path = try sampleLog(directory)
        let piped = try synwall([path, "--src", "198.51.100.0/24"])
        #expect(piped.out == JSONLinesEncoder().line(for: sampleDrop("198.51.100.2", port: 80, reason: "invalid_flags", at: base + minute)))
        let table = try synwall([path, "--src", "198.51.100.0/24", "--table"])
        #expect(table.out == """
            TIME (UTC)               EVENT  REASON         PROTO  SOURCE              DESTINATION    FLAGS  STATE  COUNT  RULE  DETAIL
            2026-11-24 21:04:11.000  drop   invalid_flags  TCP    198.51.100.2:40000  192.0.2.10:80  FPU    NONE       1  -     -

            """)
        let colour = try synwall([path, "--src", "198.51.100.0/24", "--table", "--color", "always"])
        #expect(colour.out.hasPrefix("\u{1B}[1mTIME (UTC)"))
    }

    @Test func csvTopAndHistogram() throws {
        let directory = try ScratchDirectory()
        let path = try sampleLog(directory)
        let csv = try synwall([path, "--csv", "--rule", "ssh"])
        #expect(csv.out.split(separator: "\n").count == 2)
        #expect(csv.out.hasPrefix("timestamp,event_type,flow_id,in_iface,direction,proto,src_ip,"))
        #expect(csv.out.hasSuffix(",/etc/synwall/a.rules,4,ssh,,,,,,\n"))
        let top = try synwall([path, "--top", "src", "-n", "1"])
        #expect(top.out == """
            SOURCE       COUNT   SHARE
            203.0.113.7      2   66.7%
            1 of 2 shown; 3 occurrences in all

            """)
        let histogram = try synwall([path, "--histogram", "--bucket", "1m", "--since", "2026-11-24T21:04:00Z"])
        #expect(histogram.out == """
            occurrences per 1m (UTC); 2 in all
            2026-11-24 21:04  ###########################################################  1
            2026-11-24 21:05  ###########################################################  1

            """)
    }

    @Test func badArgumentsSayWhatToDoAndExit64() throws {
        let cases: [([String], String)] = [
            (["--since", "bogus"], "synwall: error: --since 'bogus' is not a time; use a duration back from now (30m, 1h, 2d) or RFC 3339 (2026-11-24T21:03:00Z)"),
            (["--src", "10.0.0.300"], "synwall: error: --src '10.0.0.300' is not an address or CIDR prefix (203.0.113.7, 203.0.113.0/24, 2001:db8::/32)"),
            (["--top", "colour"], "synwall: error: --top 'colour' is not a key; use one of src, dst, port, reason, rule"),
            (["--event", "dropped"], "synwall: error: --event 'dropped' is not an event type; use one of drop, alert, anomaly, flow, overload, reload, start, stop, suppressed, table"),
            (["--json", "--csv"], "synwall: error: choose one of --table, --json and --csv"),
            (["--follow", "--top", "src"], "synwall: error: --follow prints records; it cannot be combined with --top or --histogram"),
            (["--bucket", "5m"], "synwall: error: --bucket applies to --histogram; add --histogram"),
            (["-n", "3"], "synwall: error: -n applies to --top; add --top src|dst|port|reason|rule"),
            (["--port", "http"], "synwall: error: --port 'http' is not a port number (0-65535)"),
            (["--since", "1h", "--until", "2h"], "synwall: error: --since must be earlier than --until"),
            (["--reason", "bad_sq"], "synwall: error: --reason 'bad_sq' is not a reason synwall writes; did you mean 'bad_seq'?"),
            (["--reason", "policy", "--reason", "invalid_flag"],
             "synwall: error: --reason 'invalid_flag' is not a reason synwall writes; did you mean 'invalid_flags'?"),
        ]
        for (arguments, message) in cases {
            let result = try synwall(arguments)
            #expect(result.status == 64, "\(arguments)")
            #expect(result.err == message + " (see 'synwall help')\n", "\(arguments): \(result.err)")
        }
    }

    @Test func relativeSinceAndUntilTogetherSelectAWindowBackFromNow() throws {
        let directory = try ScratchDirectory()
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let hour: UInt64 = 60 * minute
        let current = UInt64(now.tv_sec) * 1_000_000_000
        let path = directory.path("events.jsonl")
        try directory.write("events.jsonl", jsonLines([
            sampleDrop("203.0.113.1", reason: "bad_seq", at: current - 72 * hour),
            sampleDrop("203.0.113.2", reason: "bad_seq", at: current - 36 * hour),
            sampleDrop("203.0.113.3", reason: "bad_seq", at: current - 1 * hour),
        ]))
        let window = try synwall([path, "--since", "2d", "--until", "1d", "--json"])
        #expect(window.status == 0, "\(window.err)")
        #expect(window.err.isEmpty)
        #expect(parseLines(window.out).events.map(\.timestampNanoseconds) == [current - 36 * hour])
        let mixed = try synwall([path, "--since", "2d", "--until", "now", "--json"])
        #expect(parseLines(mixed.out).events.count == 2)
        let reversed = try synwall([path, "--since", "1d", "--until", "2d"])
        #expect(reversed.status == 64)
        #expect(reversed.err == "synwall: error: --since must be earlier than --until (see 'synwall help')\n")
    }

    @Test func aMissingFileIsOneLineAndStatus1() throws {
        let directory = try ScratchDirectory()
        let path = directory.path("absent.jsonl")
        let result = try synwall([path])
        #expect(result.status == 1)
        #expect(result.err == "synwall: error: cannot open log file '\(path)': No such file or directory; check the path and "
            + "that you may read it (the daemon's log is usually readable by root and the adm group)\n")
        #expect(result.out.isEmpty)
    }

    @Test func helpListsTheOptions() throws {
        let result = try synwall(["--help"])
        #expect(result.status == 0)
        for option in ["--since", "--until", "--src", "--dst", "--port", "--reason", "--rule", "--event", "--follow", "--json",
                       "--csv", "--top", "-n", "--histogram", "--bucket", "/var/log/synwall/events.jsonl"] {
            #expect(result.out.contains(option), "\(option)")
        }
    }

    /// `synwall log --follow` as a process: new records appear, also after a rotation.
    @Test func followAsAProcessAcrossARotation() throws {
        let directory = try ScratchDirectory()
        let path = directory.path("events.jsonl")
        try directory.write("events.jsonl", jsonLines([sampleDrop("10.0.0.1", at: base)]))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try synwallBinary())
        process.arguments = ["log", path, "--follow", "--json"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer {
            // Bounded: SIGTERM, then SIGKILL after 5 s.
            if process.isRunning { process.terminate() }
            if !waitUntil(seconds: 5, { !process.isRunning }) { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        let collected = Atomic("")
        out.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            collected.value += String(decoding: data, as: UTF8.self)
        }
        usleep(400_000)
        try (directory.contents("events.jsonl")! + jsonLines([sampleDrop("10.0.0.2", at: base + 1000)]))
            .write(toFile: path, atomically: false, encoding: .utf8)
        #expect(waitUntil(seconds: 10) { collected.value.contains("10.0.0.2") })
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        try directory.write("events.jsonl", jsonLines([sampleDrop("10.0.0.3", at: base + 2000)]))
        #expect(waitUntil(seconds: 10) { collected.value.contains("10.0.0.3") })
        out.fileHandleForReading.readabilityHandler = nil
        #expect(!collected.value.contains("10.0.0.1"))  // started at the end
        #expect(parseLines(collected.value).events.map(\.sourceIP) == ["10.0.0.2", "10.0.0.3"])
    }
}
