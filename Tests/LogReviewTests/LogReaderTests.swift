import EventLog
import Foundation
import LogReview
import LogTestSupport
import Testing
import Wire

private let base: UInt64 = 1_795_554_191 * 1_000_000_000
private let minute: UInt64 = 60_000_000_000

private func event(_ n: Int, source: String = "203.0.113.7") -> Event {
    sampleDrop(source, at: base + UInt64(n) * minute)
}

/// Reads everything; returns the records' minute numbers and the warnings.
private func readAll(_ reader: LogReader, keepLines: Bool = false) -> (minutes: [Int], entries: [LogEntry], warnings: [LogWarning]) {
    let warnings = Atomic<[LogWarning]>([])
    var entries: [LogEntry] = []
    reader.read(keepLines: keepLines, warning: { warnings.value.append($0) }) { entry in
        entries.append(entry)
        return true
    }
    return (entries.map { Int(($0.event.timestampNanoseconds - base) / minute) }, entries, warnings.value)
}

@Suite struct LogReaderTests {
    /// A gzip bomb among the rotations (64 MiB of zeros in 64 KiB: one endless line) and a
    /// rotation of binary garbage: each is a warning and the records around them are read. The
    /// memory this costs is measured on the real command, in a process of its own
    /// (IntegrationTests/HostileFileMemoryTests): this process's peak is shared with every test
    /// running beside it.
    @Test func aGzipBombAndBinaryGarbageAmongTheRotationsAreWarnings() throws {
        let directory = try ScratchDirectory()
        try directory.write("events.jsonl.3", jsonLines([event(0)]))
        try Data(count: 64 << 20).write(to: URL(fileURLWithPath: directory.path("events.jsonl.2")))
        try gzipFile(directory.path("events.jsonl.2"))
        var garbage = Data((0..<(4 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 7) })
        garbage.append(contentsOf: Array("\n".utf8))
        try garbage.write(to: URL(fileURLWithPath: directory.path("events.jsonl.1")))
        try directory.write("events.jsonl", jsonLines([event(1)]))
        let result = readAll(try LogReader(paths: [directory.path("events.jsonl")]))
        #expect(result.minutes == [0, 1])
        #expect(result.warnings.contains { "\($0)".contains("events.jsonl.2.gz: skipped a line longer than 1048576 bytes") })
        #expect(result.warnings.contains { "\($0)".contains("events.jsonl.1") })
    }

    @Test func readsRotationsOldestFirstIncludingGzip() throws {
        let directory = try ScratchDirectory()
        try directory.write("events.jsonl.10", jsonLines([event(0), event(1)]))  // numeric, not text, order
        try directory.write("events.jsonl.3", jsonLines([event(2), event(3)]))
        try directory.write("events.jsonl.2", jsonLines([event(4)]))
        try gzipFile(directory.path("events.jsonl.2"))
        try directory.write("events.jsonl.1", jsonLines([event(5)]))
        try directory.write("events.jsonl", jsonLines([event(6), event(7)]))
        try directory.write("events.jsonl.old", "not a rotation\n")
        try directory.write("events.jsonl.1.bak", "not a rotation\n")
        try directory.write("other.jsonl.1", jsonLines([event(99)]))
        let path = directory.path("events.jsonl")
        #expect(LogReader.rotations(of: path) == [path + ".10", path + ".3", path + ".2.gz", path + ".1"])
        let reader = try LogReader(paths: [path])
        let result = readAll(reader)
        #expect(result.minutes == Array(0...7))
        #expect(result.warnings.isEmpty)
        #expect(result.entries[4].file == path + ".2.gz")
        #expect(result.entries[4].lineNumber == 1)
        #expect(result.entries[7].lineNumber == 2)
    }

    @Test func aMalformedLineIsAWarningNamingFileAndLineNeverAStop() throws {
        let directory = try ScratchDirectory()
        let path = directory.path("events.jsonl")
        try directory.write("events.jsonl", jsonLines([event(0)]) + "{\"timestamp\":\n" + "\n" + jsonLines([event(1)])
            + "garbage\u{1B}[2J\n" + jsonLines([event(2)]) + String(jsonLines([event(3)]).prefix(30)))
        let result = readAll(try LogReader(paths: [path]))
        #expect(result.minutes == [0, 1, 2])
        #expect(result.warnings.map(\.description) == [
            "\(path):2: skipped a malformed line: column 14: expected a string",
            "\(path):5: skipped a malformed line: column 1: a record must be a JSON object starting with '{'",
            "\(path):7: skipped an unfinished last line (cut by a crash, or still being written): column 14: unterminated string",
        ])
        #expect(result.entries.map(\.lineNumber) == [1, 4, 6])  // the blank line 3 is skipped silently
    }

    @Test func aLastLineWithoutNewlineThatParsesIsARecord() throws {
        let directory = try ScratchDirectory()
        try directory.write("e.jsonl", jsonLines([event(0)]) + String(jsonLines([event(1)]).dropLast()))
        let result = readAll(try LogReader(paths: [directory.path("e.jsonl")]))
        #expect(result.minutes == [0, 1])
        #expect(result.warnings.isEmpty)
    }

    @Test func aDamagedGzipIsAWarningAndTheNextFileIsRead() throws {
        let directory = try ScratchDirectory()
        try directory.write("events.jsonl.2", jsonLines((0..<200).map { event($0) }))
        try gzipFile(directory.path("events.jsonl.2"))
        // Cut the compressed file short.
        let gz = directory.path("events.jsonl.2.gz")
        let data = try Data(contentsOf: URL(fileURLWithPath: gz))
        try data.prefix(data.count / 2).write(to: URL(fileURLWithPath: gz))
        try directory.write("events.jsonl.1", jsonLines([event(500)]))
        let result = readAll(try LogReader(paths: [directory.path("events.jsonl.1"), gz], expandRotations: true))
        #expect(result.minutes.last == 500 || result.minutes.first == 500)
        #expect(result.warnings.contains { $0.file == gz })
    }

    @Test func pathsAndErrors() throws {
        let directory = try ScratchDirectory()
        let path = directory.path("events.jsonl")
        #expect(throws: LogReadError.cannotOpen(path: path, errno: ENOENT)) { try LogReader(paths: [path]) }
        // Just rotated away, not yet recreated: the rotations are read.
        try directory.write("events.jsonl.1", jsonLines([event(1)]))
        #expect(readAll(try LogReader(paths: [path])).minutes == [1])
        // A rotation named on its own is read alone.
        try directory.write("events.jsonl.2", jsonLines([event(0)]))
        #expect(readAll(try LogReader(paths: [path + ".1"])).minutes == [1])
        #expect(throws: LogReadError.cannotOpen(path: path, errno: ENOENT)) {
            try LogReader(paths: [path], expandRotations: false)
        }
        try directory.write("events.jsonl", jsonLines([event(2)]))
        #expect(try LogReader(paths: [path], expandRotations: false).files == [path])
        #expect(try LogReader(paths: [path]).files == [path + ".2", path + ".1", path])
        let description = LogReadError.cannotOpen(path: "/x", errno: EACCES).description
        #expect(description == "cannot open log file '/x': Permission denied; check the path and that you may read it "
            + "(the daemon's log is usually readable by root and the adm group)")
    }

    @Test func severalLogsAreMergedByTime() throws {
        let directory = try ScratchDirectory()
        try directory.write("a.jsonl", jsonLines([event(0, source: "a"), event(3, source: "a"), event(4, source: "a")]))
        try directory.write("b.jsonl", jsonLines([event(1, source: "b"), event(2, source: "b"), event(5, source: "b")]))
        let result = readAll(try LogReader(paths: [directory.path("a.jsonl"), directory.path("b.jsonl")]))
        #expect(result.minutes == [0, 1, 2, 3, 4, 5])
        #expect(result.entries.map(\.event.sourceIP) == ["a", "b", "b", "a", "a", "b"])
    }

    @Test func keptLinesAreTheFileText() throws {
        let directory = try ScratchDirectory()
        let line = #"{"event_type":"drop","timestamp":"2026-11-24T21:03:11Z","future_key":[1,2],"src_ip":"a"}"#
        try directory.write("e.jsonl", line + "\n")
        let result = readAll(try LogReader(paths: [directory.path("e.jsonl")]), keepLines: true)
        #expect(result.entries.map(\.line) == [line])
    }

    @Test func anOverlongLineIsSkippedWithAWarning() throws {
        let directory = try ScratchDirectory()
        let huge = "{\"detail\":\"" + String(repeating: "x", count: 3 << 20) + "\"}\n"
        try directory.write("e.jsonl", jsonLines([event(0)]) + huge + jsonLines([event(1)]))
        let result = readAll(try LogReader(paths: [directory.path("e.jsonl")]))
        #expect(result.minutes == [0, 1])
        #expect(result.warnings.count == 1)
        #expect(result.warnings.first?.message.contains("longer than") == true)
    }

    /// Found by the log reader fuzzer: an address of many digits (`203.0.&12222…13.7`, from a
    /// damaged line) overflowed the dotted-quad parser, crashing `synwall log --src` and the
    /// parse of such a prefix. It is simply no address.
    @Test func anAddressOfManyDigitsIsNoAddress() throws {
        let long = "203.0.&1222222222222222222222222222213.7"
        #expect(IPPrefix(long) == nil)
        #expect(IPPrefix(String(repeating: "9", count: 40)) == nil)
        #expect(IPPrefix("1.2.3.99999999999999999999/8") == nil)
        let prefix = try #require(IPPrefix("203.0.113.0/24"))
        #expect(!prefix.contains(addressText: long))
        #expect(!prefix.contains(addressText: "203.0.113." + String(repeating: "7", count: 30)))
        #expect(prefix.contains(addressText: "203.0.113.7"))

        let directory = try ScratchDirectory()
        try directory.write("e.jsonl", [
            #"{"timestamp":"2026-11-24T21:03:11Z","event_type":"drop","src_ip":"203.0.&1222222222222222222222222222213.7","dest_port":22,"reason":"bad_seq"}"#,
            #"{"timestamp":"2026-11-24T21:03:12Z","event_type":"drop","src_ip":"203.0.113.7","dest_port":22,"reason":"bad_seq"}"#,
        ].joined(separator: "\n") + "\n")
        var query = LogQuery()
        query.sources = [prefix]
        var found: [String] = []
        let read = try LogReader(paths: [directory.path("e.jsonl")]).read(query: query, warning: { _ in }) { entry in
            found.append(entry.event.sourceIP)
            return true
        }
        #expect(read == 2)
        #expect(found == ["203.0.113.7"])
    }

    /// The reader filters on the bytes before building records; escaped text must still match
    /// as its meaning, and filtered-out records still count as read.
    @Test func filteringBeforeBuildingAgreesWithTheEventsMeaning() throws {
        let directory = try ScratchDirectory()
        let lines = [
            #"{"timestamp":"2026-11-24T21:03:11Z","event_type":"drop","src_ip":"203.0.113.7","dest_port":22,"reason":"bad_seq"}"#,
            #"{"timestamp":"2026-11-24T21:03:12Z","event_type":"drop","src_ip":"203.0.113.\u0038","dest_port":22,"reason":"\u0062ad_seq"}"#,
            #"{"timestamp":"2026-11-24T21:03:13Z","event_type":"drop","src_ip":"198.51.100.1","dest_port":22,"reason":"bad_seq"}"#,
            #"{"timestamp":"2026-11-24T21:03:14Z","event_type":"alert","src_ip":"203.0.113.9","dest_port":80,"reason":"policy","rule":{"file":"/r/a.rules","line":4,"label":"w\u0065b"}}"#,
            #"{"timestamp":"2026-11-24T21:03:15Z","event_type":"drop","src_ip":"203.0.113.10","src_port":22,"reason":"bad_ack"}"#,
        ]
        try directory.write("e.jsonl", lines.joined(separator: "\n") + "\n")
        let reader = try LogReader(paths: [directory.path("e.jsonl")])
        func sources(_ query: LogQuery) -> (read: Int, sources: [String]) {
            var found: [String] = []
            let read = reader.read(query: query, warning: { _ in }) { entry in
                found.append(entry.event.sourceIP)
                return true
            }
            return (read, found)
        }
        var byReason = LogQuery()
        byReason.reasons = ["bad_seq"]
        byReason.sources = [try #require(IPPrefix("203.0.113.0/24"))]
        #expect(sources(byReason).sources == ["203.0.113.7", "203.0.113.8"])
        #expect(sources(byReason).read == 5)
        var byRule = LogQuery()
        byRule.rules = ["web"]
        #expect(sources(byRule).sources == ["203.0.113.9"])
        byRule.rules = ["a.rules:4"]
        #expect(sources(byRule).sources == ["203.0.113.9"])
        #expect(sources(LogQuery(ports: [22])).sources == ["203.0.113.7", "203.0.113.8", "198.51.100.1", "203.0.113.10"])
        #expect(sources(LogQuery(eventTypes: [.alert])).sources == ["203.0.113.9"])
        #expect(sources(LogQuery(since: EventTimestamp.parse(Array("2026-11-24T21:03:14Z".utf8)))).sources
            == ["203.0.113.9", "203.0.113.10"])
        // The same answers as judging every built Event.
        var all: [Event] = []
        reader.read(warning: { _ in }) { all.append($0.event); return true }
        for query in [byReason, byRule, LogQuery(ports: [22])] {
            #expect(sources(query).sources == all.filter { query.matches($0) }.map(\.sourceIP))
        }
    }
}
