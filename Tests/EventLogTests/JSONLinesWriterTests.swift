import Foundation
import Testing

@testable import EventLog

#if canImport(Glibc)
import Glibc
#endif

private func sampleEvent(_ n: Int, detail: String? = nil) -> Event {
    Event(timestampNanoseconds: 1_795_554_191_482_113_000 + UInt64(n) * 1000, eventType: .drop, queue: 0, proto: "TCP",
          sourceIP: "203.0.113.7", sourcePort: UInt16(40000 + n), destinationIP: "192.0.2.10", destinationPort: 22,
          reason: "no_connection", detail: detail, state: "NONE", tcp: TCPFields(flags: 0x10, seq: UInt32(n), ack: 1, win: 502))
}

private func line(_ n: Int) -> String { JSONLinesEncoder().line(for: sampleEvent(n)) }

/// A fresh directory under the system temporary directory, removed when the value goes away.
private final class TemporaryDirectory {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("synwall-eventlog-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    func contents(_ name: String) -> String? {
        FileManager.default.contents(atPath: path(name)).map { String(decoding: $0, as: UTF8.self) }
    }
    deinit { try? FileManager.default.removeItem(at: url) }
}

/// Scripted `write(2)` results, for EINTR, short writes and failures. Used from one thread.
private final class ScriptedWrites: @unchecked Sendable {
    enum Step { case interrupt, fail(Int32), accept(Int), acceptAll, zero }
    var steps: [Step] = []
    var calls = 0

    /// Syscalls that open the real file but write through the script (`acceptAll` once it runs out).
    var syscalls: Syscalls {
        var calls = Syscalls.live
        calls.write = { [self] fd, bytes, count in
            self.calls += 1
            let step = steps.isEmpty ? .acceptAll : steps.removeFirst()
            switch step {
            case .interrupt: return (-1, EINTR)
            case let .fail(code): return (-1, code)
            case .zero: return (0, 0)
            case let .accept(limit): return Syscalls.live.write(fd, bytes, min(limit, count))
            case .acceptAll: return Syscalls.live.write(fd, bytes, count)
            }
        }
        return calls
    }
}

@Suite struct JSONLinesWriterTests {
    @Test func appendsWholeLinesOnFlush() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("events.jsonl")
        try "old line\n".write(toFile: path, atomically: false, encoding: .utf8)
        let writer = try JSONLinesWriter(path: path)
        writer.append(sampleEvent(1))
        writer.append(sampleEvent(2))
        #expect(writer.pendingEvents == 2)
        #expect(directory.contents("events.jsonl") == "old line\n")  // buffered until flush
        writer.flush()
        #expect(directory.contents("events.jsonl") == "old line\n" + line(1) + line(2))
        #expect(writer.writtenEvents == 2)
        #expect(writer.pendingEvents == 0)
        #expect(writer.failedWrites == 0)
        writer.flush()  // nothing buffered: nothing written
        #expect(directory.contents("events.jsonl") == "old line\n" + line(1) + line(2))
    }

    @Test func createsTheFileWithMode0640() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("new.jsonl")
        let previous = umask(0o022)
        defer { umask(previous) }
        _ = try JSONLinesWriter(path: path)
        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o640)
    }

    @Test func flushesByItselfAtTheThreshold() throws {
        let directory = try TemporaryDirectory()
        let writer = try JSONLinesWriter(path: directory.path("e.jsonl"), flushThreshold: line(1).utf8.count * 2)
        writer.append(sampleEvent(1))
        #expect(writer.writtenEvents == 0)
        writer.append(sampleEvent(2))
        #expect(writer.writtenEvents == 2)
        #expect(directory.contents("e.jsonl") == line(1) + line(2))
    }

    @Test func reopenAfterRenameStartsAFreshFile() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("events.jsonl")
        let writer = try JSONLinesWriter(path: path)
        writer.append(sampleEvent(1))
        writer.flush()
        try FileManager.default.moveItem(atPath: path, toPath: directory.path("events.jsonl.1"))
        writer.append(sampleEvent(2))  // buffered before the reopen: goes to the renamed file
        try writer.reopen()
        writer.append(sampleEvent(3))
        writer.flush()
        #expect(directory.contents("events.jsonl.1") == line(1) + line(2))
        #expect(directory.contents("events.jsonl") == line(3))
        #expect(writer.writtenEvents == 3)
    }

    @Test func reopenAfterRemovalAndFailedReopenKeepsWriting() throws {
        let directory = try TemporaryDirectory()
        let subdirectory = directory.path("logs")
        try FileManager.default.createDirectory(atPath: subdirectory, withIntermediateDirectories: false)
        let path = subdirectory + "/events.jsonl"
        let writer = try JSONLinesWriter(path: path)
        try FileManager.default.removeItem(atPath: subdirectory)  // the whole directory is gone
        #expect(throws: EventLogError.cannotOpen(path: path, errno: ENOENT)) { try writer.reopen() }
        writer.append(sampleEvent(1))
        writer.flush()  // still the old (unlinked) file: written, not failed
        #expect(writer.writtenEvents == 1)
        #expect(writer.failedWrites == 0)
        try FileManager.default.createDirectory(atPath: subdirectory, withIntermediateDirectories: false)
        try writer.reopen()
        writer.append(sampleEvent(2))
        writer.flush()
        #expect(FileManager.default.contents(atPath: path).map { String(decoding: $0, as: UTF8.self) } == line(2))
    }

    @Test func unopenablePathsFailAtInit() throws {
        let directory = try TemporaryDirectory()
        let missing = directory.path("no/such/dir/events.jsonl")
        #expect(throws: EventLogError.cannotOpen(path: missing, errno: ENOENT)) { try JSONLinesWriter(path: missing) }
        #expect(throws: EventLogError.cannotOpen(path: directory.url.path, errno: EISDIR)) {
            try JSONLinesWriter(path: directory.url.path)
        }
        let error = EventLogError.cannotOpen(path: missing, errno: ENOENT)
        #expect(error.description == "cannot open event log '\(missing)' for appending: No such file or directory (errno 2); "
            + "create its directory and make it writable by synwall, or choose another log path")
    }

    @Test func fullDiskIsCountedNotThrown() throws {
        let writer = try JSONLinesWriter(path: "/dev/full")
        for n in 0..<3 { writer.append(sampleEvent(n)) }
        writer.flush()
        #expect(writer.failedWrites == 1)
        #expect(writer.droppedEvents == 3)
        #expect(writer.writtenEvents == 0)
        #expect(writer.pendingEvents == 0)
        writer.append(sampleEvent(4))
        writer.flush()
        #expect(writer.failedWrites == 2)
        #expect(writer.droppedEvents == 4)
    }

    @Test func closedWriterDropsAndCountsUntilReopened() throws {
        let directory = try TemporaryDirectory()
        let writer = try JSONLinesWriter(path: directory.path("e.jsonl"))
        writer.append(sampleEvent(1))
        writer.close()
        writer.close()
        writer.append(sampleEvent(2))
        writer.flush()
        #expect(writer.droppedEvents == 1)
        #expect(writer.writtenEvents == 1)
        try writer.reopen()
        writer.append(sampleEvent(3))
        writer.flush()
        #expect(directory.contents("e.jsonl") == line(1) + line(3))
    }

    @Test func interruptedAndShortWritesAreContinued() throws {
        let directory = try TemporaryDirectory()
        let script = ScriptedWrites()
        script.steps = [.interrupt, .accept(10), .interrupt, .accept(7), .accept(100)]
        let writer = try JSONLinesWriter(path: directory.path("e.jsonl"), flushThreshold: 1 << 20, syscalls: script.syscalls)
        for n in 0..<3 { writer.append(sampleEvent(n)) }
        writer.flush()
        #expect(directory.contents("e.jsonl") == line(0) + line(1) + line(2))
        #expect(writer.failedWrites == 0)
        #expect(writer.writtenEvents == 3)
        #expect(script.calls == 6)  // the five scripted, then the rest in one call
    }

    @Test func oneWriteCallPerFlush() throws {
        let directory = try TemporaryDirectory()
        let script = ScriptedWrites()
        let writer = try JSONLinesWriter(path: directory.path("e.jsonl"), flushThreshold: 1 << 20, syscalls: script.syscalls)
        for n in 0..<50 { writer.append(sampleEvent(n)) }
        writer.flush()
        #expect(script.calls == 1)
        #expect(writer.writtenEvents == 50)
    }

    @Test func failureAfterAPartialWriteKeepsLaterLinesParseable() throws {
        let directory = try TemporaryDirectory()
        let script = ScriptedWrites()
        let lineLength = line(0).utf8.count
        // First flush: one whole line and 5 bytes of the next get out, then EBADF.
        script.steps = [.accept(lineLength + 5), .fail(EBADF)]
        let writer = try JSONLinesWriter(path: directory.path("e.jsonl"), flushThreshold: 1 << 20, syscalls: script.syscalls)
        for n in 0..<3 { writer.append(sampleEvent(n)) }
        writer.flush()
        #expect(writer.failedWrites == 1)
        #expect(writer.writtenEvents == 1)
        #expect(writer.droppedEvents == 2)
        writer.append(sampleEvent(7))
        writer.flush()
        #expect(writer.failedWrites == 1)
        #expect(writer.writtenEvents == 2)
        let torn = String(line(1).prefix(5))
        #expect(directory.contents("e.jsonl") == line(0) + torn + "\n" + line(7))
    }

    @Test func endlessInterruptionsAndZeroWritesAreBoundedFailures() throws {
        let directory = try TemporaryDirectory()
        let script = ScriptedWrites()
        script.steps = Array(repeating: .interrupt, count: JSONLinesWriter.maximumInterruptions + 1) + [.zero]
        let writer = try JSONLinesWriter(path: directory.path("e.jsonl"), flushThreshold: 1 << 20, syscalls: script.syscalls)
        writer.append(sampleEvent(1))
        writer.flush()
        #expect(writer.failedWrites == 1)
        #expect(script.calls == JSONLinesWriter.maximumInterruptions + 1)
        script.steps = [.zero]
        writer.append(sampleEvent(2))
        writer.flush()
        #expect(writer.failedWrites == 2)
        #expect(writer.droppedEvents == 2)
        #expect(directory.contents("e.jsonl") == "")
    }

    /// Two writers on one file, each on its own thread: every line in the file is whole.
    @Test func concurrentWritersNeverTearLines() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("shared.jsonl")
        let perWriter = 2000
        let filler = String(repeating: "x", count: 300)
        await withTaskGroup(of: Int.self) { group in
            for worker in 0..<2 {
                group.addTask {
                    guard let writer = try? JSONLinesWriter(path: path, flushThreshold: 4096) else { return -1 }
                    for n in 0..<perWriter {
                        writer.append(sampleEvent(worker * perWriter + n, detail: filler))
                    }
                    writer.flush()
                    return writer.writtenEvents
                }
            }
            var total = 0
            for await written in group { total += written }
            #expect(total == 2 * perWriter)
        }
        let text = try #require(directory.contents("shared.jsonl"))
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 2 * perWriter + 1)  // the last element is the empty tail
        let whole = lines.dropLast().filter { $0.hasPrefix(#"{"timestamp":"#) && $0.hasSuffix("}") && $0.contains(filler) }
        #expect(whole.count == 2 * perWriter)
    }
}
