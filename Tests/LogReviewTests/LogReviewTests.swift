import EventLog
import Foundation
import LogReview
import LogTestSupport
import Testing
import Wire

private let base: UInt64 = 1_795_554_191 * 1_000_000_000
private let minute: UInt64 = 60_000_000_000

private func event(_ n: Int, source: String = "203.0.113.7", reason: String = "bad_seq") -> Event {
    sampleDrop(source, reason: reason, at: base + UInt64(n) * minute)
}

/// Runs a review and returns its output and warnings.
private func review(_ options: LogReviewOptions, shouldStop: () -> Bool = { false }) throws
    -> (text: String, warnings: [String], summary: LogReview.Summary)
{
    let text = Atomic("")
    let warnings = Atomic<[String]>([])
    let output = LogTextOutput { text.value += $0 }
    let summary = try LogReview(options: options).run(output: output, warn: { warnings.value.append($0) },
                                                      shouldStop: shouldStop)
    return (text.value, warnings.value, summary)
}

@Suite struct LogReviewTests {
    @Test func jsonPassesMatchingLinesThroughUnchanged() throws {
        let directory = try ScratchDirectory()
        let kept = #"{"timestamp":"2026-11-24T21:05:11Z","event_type":"drop","src_ip":"203.0.113.9","reason":"bad_seq","x_future":{"a":1}}"#
        try directory.write("events.jsonl.1", jsonLines([event(0), event(1, reason: "invalid_flags")]))
        try directory.write("events.jsonl", kept + "\n" + jsonLines([event(3, source: "198.51.100.1")]))
        var query = LogQuery()
        query.reasons = ["bad_seq"]
        query.sources = [IPPrefix("203.0.113.0/24")!]
        let result = try review(LogReviewOptions(paths: [directory.path("events.jsonl")], query: query, format: .json))
        #expect(result.text == JSONLinesEncoder().line(for: event(0)) + kept + "\n")
        #expect(result.summary == LogReview.Summary(read: 4, matched: 2, warnings: 0))
    }

    @Test func warningsAreLimitedPerFileThenCounted() throws {
        let directory = try ScratchDirectory()
        try directory.write("e.jsonl", String(repeating: "junk\n", count: 25) + jsonLines([event(0)]))
        let options = LogReviewOptions(paths: [directory.path("e.jsonl")], format: .csv, maxWarningsPerFile: 3)
        let result = try review(options)
        #expect(result.warnings.count == 4)
        #expect(result.warnings[0] == "\(directory.path("e.jsonl")):1: skipped a malformed line: column 1: "
            + "a record must be a JSON object starting with '{'")
        #expect(result.warnings[3] == "\(directory.path("e.jsonl")): 22 more warnings not shown")
        #expect(result.summary.warnings == 25)
        #expect(result.text.split(separator: "\n").count == 2)  // header and the one record
    }

    @Test func topAndHistogramThroughTheReview() throws {
        let directory = try ScratchDirectory()
        try directory.write("e.jsonl", jsonLines([event(0), event(0, source: "a"), event(1, source: "a"), event(600)]))
        let top = try review(LogReviewOptions(paths: [directory.path("e.jsonl")], format: .json, mode: .top(.src, limit: 5)))
        #expect(top.text == "{\"src_ip\":\"203.0.113.7\",\"count\":2}\n{\"src_ip\":\"a\",\"count\":2}\n")
        let histogram = try review(LogReviewOptions(paths: [directory.path("e.jsonl")], format: .csv,
                                                    mode: .histogram(bucketNanoseconds: minute), maxHistogramRows: 100))
        #expect(histogram.warnings == ["buckets widened from 1m to 10m to fit 100 rows; narrow the time with --since/--until or choose --bucket"])
        #expect(histogram.text.hasPrefix("bucket,count\n2026-11-24T21:00:00.000000+0000,3\n"))
        #expect(histogram.text.hasSuffix("2026-11-25T07:00:00.000000+0000,1\n"))
    }

    @Test func aMissingFileIsAnError() throws {
        let directory = try ScratchDirectory()
        let path = directory.path("nope.jsonl")
        #expect(throws: LogReadError.cannotOpen(path: path, errno: ENOENT)) {
            _ = try review(LogReviewOptions(paths: [path]))
        }
    }

    /// `--follow --since`: the rotations first, then the live file, then across a rotation;
    /// the steps happen between polls, so the test is deterministic and bounded.
    @Test func followWithSinceReadsHistoryThenFollowsAcrossRotation() throws {
        let directory = try ScratchDirectory()
        let path = directory.path("events.jsonl")
        try directory.write("events.jsonl.1", jsonLines([event(0), event(1, reason: "other")]))
        try directory.write("events.jsonl", jsonLines([event(2)]))
        var query = LogQuery(since: base)
        query.reasons = ["bad_seq"]
        var polls = 0
        let result = try review(LogReviewOptions(paths: [path], query: query, format: .json, follow: true,
                                                 followIntervalNanoseconds: 10_000_000)) {
            polls += 1
            switch polls {
            case 3:
                try? (directory.contents("events.jsonl")! + jsonLines([event(3)])).write(toFile: path, atomically: false,
                                                                                          encoding: .utf8)
            case 5:
                try? FileManager.default.moveItem(atPath: path, toPath: path + ".1.new")
                try? directory.write("events.jsonl", jsonLines([event(4), event(5, reason: "other"), event(6)]))
            default: break
            }
            return polls > 8
        }
        let minutes = parseLines(result.text).events.map { ($0.timestampNanoseconds - base) / minute }
        #expect(minutes == [0, 2, 3, 4, 6])
        #expect(result.warnings.isEmpty)
    }

    @Test func followWithoutSinceStartsAtTheEnd() throws {
        let directory = try ScratchDirectory()
        let path = directory.path("events.jsonl")
        try directory.write("events.jsonl", jsonLines([event(0)]))
        var polls = 0
        let result = try review(LogReviewOptions(paths: [path], format: .table, follow: true,
                                                 followIntervalNanoseconds: 10_000_000)) {
            polls += 1
            if polls == 2 {
                try? (directory.contents("events.jsonl")! + jsonLines([event(1)])).write(toFile: path, atomically: false,
                                                                                          encoding: .utf8)
            }
            return polls > 4
        }
        #expect(result.text == """
            TIME (UTC)               EVENT  REASON   PROTO  SOURCE             DESTINATION    FLAGS  STATE  COUNT  RULE  DETAIL
            2026-11-24 21:04:11.000  drop   bad_seq  TCP    203.0.113.7:40000  192.0.2.10:22  FPU    NONE       1  -     -

            """)
    }
}
