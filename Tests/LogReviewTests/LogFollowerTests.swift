import EventLog
import Foundation
import LogReview
import LogTestSupport
import Testing

private let base: UInt64 = 1_795_554_191 * 1_000_000_000

private func event(_ n: Int) -> Event { sampleDrop("10.0.\(n / 256 % 256).\(n % 256)", at: base + UInt64(n) * 1000) }

/// Appends `text` to the file at `path` (creating it).
private func append(_ text: String, to path: String) throws {
    if !FileManager.default.fileExists(atPath: path) {
        FileManager.default.createFile(atPath: path, contents: nil)
    }
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    try handle.seekToEnd()
    try handle.write(contentsOf: Data(text.utf8))
    try handle.close()
}

@Suite struct LogFollowerTests {
    private func poll(_ follower: LogFollower) -> (numbers: [Int], warnings: [LogWarning]) {
        var numbers: [Int] = []
        var warnings: [LogWarning] = []
        follower.poll(warning: { warnings.append($0) }) { numbers.append(Int(($0.event.timestampNanoseconds - base) / 1000)) }
        return (numbers, warnings)
    }

    @Test func startsAtTheEndAndSeesNewLinesOnly() throws {
        let directory = try ScratchDirectory()
        let path = directory.path("events.jsonl")
        try append(jsonLines([event(0), event(1)]), to: path)
        let follower = LogFollower(path: path, fromStart: false)
        #expect(poll(follower).numbers.isEmpty)
        try append(jsonLines([event(2)]), to: path)
        #expect(poll(follower).numbers == [2])
        #expect(poll(follower).numbers.isEmpty)
    }

    @Test func fromStartReadsWhatIsThereAndAnUnfinishedLineWaits() throws {
        let directory = try ScratchDirectory()
        let path = directory.path("events.jsonl")
        try append(jsonLines([event(0)]), to: path)
        let follower = LogFollower(path: path, fromStart: true)
        #expect(poll(follower).numbers == [0])
        let line = jsonLines([event(1)])
        try append(String(line.prefix(40)), to: path)
        let half = poll(follower)
        #expect(half.numbers.isEmpty)
        #expect(half.warnings.isEmpty)  // not malformed: unfinished
        try append(String(line.dropFirst(40)), to: path)
        #expect(poll(follower).numbers == [1])
    }

    @Test func followsAcrossRotationReadingTheOldFileToItsEnd() throws {
        let directory = try ScratchDirectory()
        let path = directory.path("events.jsonl")
        try append(jsonLines([event(0)]), to: path)
        let follower = LogFollower(path: path, fromStart: true)
        #expect(poll(follower).numbers == [0])
        // Rotation: rename, the writer adds a last batch to the old file, then a new file.
        try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
        try append(jsonLines([event(1)]), to: path + ".1")
        #expect(poll(follower).numbers == [1])  // the path is gone for now: keep reading the old one
        try append(jsonLines([event(2), event(3)]), to: path)
        try append(jsonLines([event(4)]), to: path + ".1")  // late line in the old file
        #expect(poll(follower).numbers == [4, 2, 3])
        try append(jsonLines([event(5)]), to: path)
        #expect(poll(follower).numbers == [5])
    }

    @Test func aTruncatedFileIsReadAgainFromItsStart() throws {
        let directory = try ScratchDirectory()
        let path = directory.path("events.jsonl")
        try append(jsonLines([event(0), event(1), event(2)]), to: path)
        let follower = LogFollower(path: path, fromStart: true)
        #expect(poll(follower).numbers == [0, 1, 2])
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: 0)
        try handle.close()
        try append(jsonLines([event(7)]), to: path)
        let result = poll(follower)
        #expect(result.numbers == [7])
        #expect(result.warnings.map(\.message) == ["file was truncated; reading it again from the start"])
    }

    @Test func aFileThatAppearsLaterIsReadFromItsStart() throws {
        let directory = try ScratchDirectory()
        let path = directory.path("events.jsonl")
        let follower = LogFollower(path: path, fromStart: false)
        #expect(poll(follower).numbers.isEmpty)
        try append(jsonLines([event(0), event(1)]), to: path)
        #expect(poll(follower).numbers == [0, 1])
    }

    @Test func rotationsMissedBetweenPollsAreReadInOrder() throws {
        let directory = try ScratchDirectory()
        let path = directory.path("events.jsonl")
        try append(jsonLines([event(0)]), to: path)
        let follower = LogFollower(path: path, fromStart: true)
        #expect(poll(follower).numbers == [0])
        try append(jsonLines([event(1)]), to: path)
        // Three rotations before the next poll.
        for number in 2...4 {
            for k in stride(from: 3, through: 1, by: -1) where FileManager.default.fileExists(atPath: "\(path).\(k)") {
                try FileManager.default.moveItem(atPath: "\(path).\(k)", toPath: "\(path).\(k + 1)")
            }
            try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
            try append(jsonLines([event(number * 10), event(number * 10 + 1)]), to: path)
        }
        #expect(poll(follower).numbers == [1, 20, 21, 30, 31, 40, 41])
    }

    /// The writer service rotating by size while a follower polls: every record once.
    @Test func followsTheServiceThroughSizeRotations() throws {
        let directory = try ScratchDirectory()
        let path = directory.path("events.jsonl")
        let service = EventLogService(path: path, settings: .init(rotation: LogRotation(maxBytes: 16 * 1024, keep: 50),
                                                                  aggregation: .init(maxRecordsPerSecond: 0),
                                                                  pollIntervalNanoseconds: 1_000_000,
                                                                  flushThreshold: 1024))
        let producer = service.makeProducer()
        service.start()
        let follower = LogFollower(path: path, fromStart: true)
        var seen: [Int] = []
        let total = 1200
        for n in 0..<total {
            while !producer.post(event(n)) { usleep(100) }
            if n % 10 == 0 {
                usleep(3000)
                seen += poll(follower).numbers
            }
        }
        service.stop()
        #expect(waitUntil(seconds: 10) {
            seen += poll(follower).numbers
            return seen.count >= total
        })
        #expect(seen.count == total)
        #expect(seen == Array(0..<total))
        #expect(service.counters.rotations >= 5)
    }
}
