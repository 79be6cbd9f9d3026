#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import EventLog

/// Follows a growing log like `tail -f`, and keeps following across rotation: when the path
/// names a new file (renamed away and created again, by synwall's rotation or logrotate), the
/// rest of the old file is read first, then the new one from its start; a truncated file is
/// read again from its start. When the log rotated several times between two polls, the
/// complete rotations in between (`path.1`, `path.2`… newer than the file being read) are read
/// too, oldest first; a rotation renamed again while it is being looked for can still be
/// missed, so poll well within the time the log takes to fill one file. Only complete lines are
/// handed out; an unfinished one waits for its newline. Call ``poll(warning:_:)`` at an
/// interval of your choosing.
public final class LogFollower {
    /// The path followed.
    public let path: String
    private let keepLines: Bool
    private var source: LogFileSource?
    private var identity: (device: UInt64, inode: UInt64) = (0, 0)
    /// Bytes of the current file taken into the buffer so far.
    private var offset: Int = 0
    private let buffer: LogLineBuffer
    private var parser = LogLineParser()
    private var lineNumber = 0
    /// Where the first open starts: the end (only new lines) or the start.
    private var startAtEnd: Bool
    private let filter: CompiledLogQuery?
    /// Records read so far, matching or not.
    public private(set) var recordsRead = 0

    /// Prepares to follow `path` (it need not exist yet).
    ///
    /// - Parameters:
    ///   - fromStart: read the file's existing lines too; otherwise only lines written from
    ///     now on (a file that appears later is always read from its start).
    ///   - keepLines: keep each line's text in ``LogEntry/line``.
    ///   - query: only records that match are handed out (nil: all).
    public init(path: String, fromStart: Bool, keepLines: Bool = false, query: LogQuery? = nil,
                bufferSize: Int = 1 << 20) {
        self.path = path
        self.keepLines = keepLines
        filter = query.flatMap { $0.isEmpty ? nil : CompiledLogQuery($0) }
        startAtEnd = !fromStart
        buffer = LogLineBuffer(capacity: bufferSize)
        openCurrent()
        startAtEnd = false
    }

    /// Reads everything new; hands each matching record to `body`.
    ///
    /// - Returns: how many records were read (matching or not), so a caller knows whether to
    ///   wait before the next poll.
    @discardableResult
    public func poll(warning: (LogWarning) -> Void, _ body: (LogEntry) -> Void) -> Int {
        let before = recordsRead
        var delivered = 0
        if source == nil {
            openCurrent()
        }
        // Bounded: at most a few switches per poll (each needs a new file at the path).
        for _ in 0..<4 {
            guard let source else { return recordsRead - before }
            delivered += readToEnd(source, warning: warning, body)
            switch checkPath() {
            case .same:
                return recordsRead - before
            case .truncated:
                warning(LogWarning(file: path, line: nil, message: "file was truncated; reading it again from the start"))
                _ = lseek(source.plainDescriptor, 0, SEEK_SET)
                offset = 0
                lineNumber = 0
                buffer.reset()
            case .replaced:
                // The writer may have added a last batch to the old file before reopening.
                delivered += readToEnd(source, warning: warning, body)
                if let partial = buffer.takePartialLine() {
                    lineNumber += 1
                    if let entry = entry(for: partial, warning: warning) {
                        body(entry)
                        delivered += 1
                    }
                }
                // Several rotations since the last poll: the files between the old one and the
                // new one are complete; read them, oldest first.
                for missed in missedRotations() {
                    lineNumber = 0
                    buffer.reset()
                    delivered += readToEnd(missed, warning: warning, body)
                    if let partial = buffer.takePartialLine() {
                        lineNumber += 1
                        if let entry = entry(for: partial, warning: warning) {
                            body(entry)
                            delivered += 1
                        }
                    }
                    missed.close()
                }
                source.close()
                self.source = nil
                openCurrent()
            }
        }
        _ = delivered
        return recordsRead - before
    }

    private enum PathState { case same, truncated, replaced }

    /// The rotations newer than the file being read (`path.1` … up to where that file now is),
    /// opened at once so later renames cannot swap them, oldest first. Empty when the file
    /// being read is not found among `path.1`…`path.N` (deleted or compressed).
    private func missedRotations() -> [LogFileSource] {
        var newer: [LogFileSource] = []
        var seen: Set<[UInt64]> = []
        var gaps = 0
        for number in 1...Self.maximumRotationScan {
            guard let candidate = try? LogFileSource(path: LogRotation.rotatedPath(path, number)) else {
                // A name can be missing for an instant while the writer shifts the rotations.
                gaps += 1
                if gaps > 2 { break }
                continue
            }
            var info = stat()
            guard !candidate.isCompressed, fstat(candidate.plainDescriptor, &info) == 0 else {
                candidate.close()
                break
            }
            if UInt64(info.st_dev) == identity.device && UInt64(info.st_ino) == identity.inode {
                candidate.close()
                return newer.reversed()
            }
            // The same file seen twice (renamed while we looked) is read once.
            if seen.insert([UInt64(info.st_dev), UInt64(info.st_ino)]).inserted {
                newer.append(candidate)
            } else {
                candidate.close()
            }
        }
        newer.forEach { $0.close() }
        return []
    }

    /// How far ``missedRotations()`` looks.
    static let maximumRotationScan = 1000

    private func checkPath() -> PathState {
        var info = stat()
        guard stat(path, &info) == 0 else { return .same }  // gone for now: wait for the new file
        if UInt64(info.st_dev) != identity.device || UInt64(info.st_ino) != identity.inode { return .replaced }
        if Int(info.st_size) < offset { return .truncated }
        return .same
    }

    private func readToEnd(_ source: LogFileSource, warning: (LogWarning) -> Void,
                           _ body: (LogEntry) -> Void) -> Int {
        var delivered = 0
        while true {
            let n: Int
            do {
                n = try buffer.fill(from: source)
            } catch {
                warning(LogWarning(file: path, line: nil, message: error.description))
                return delivered
            }
            offset += n
            if buffer.takeOverlongLines() > 0 {
                warning(LogWarning(file: path, line: nil,
                                   message: "skipped a line longer than \(buffer.capacity) bytes (not a synwall record)"))
            }
            while let line = buffer.nextLine() {
                lineNumber += 1
                if let entry = entry(for: line, warning: warning) {
                    body(entry)
                    delivered += 1
                }
            }
            if n == 0 { return delivered }
        }
    }

    private func entry(for line: UnsafeBufferPointer<UInt8>, warning: (LogWarning) -> Void) -> LogEntry? {
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return nil }
        do {
            let record = try parser.scan(line)
            recordsRead += 1
            let decision = filter?.matches(record, in: line)
            if decision == false { return nil }
            let event = try parser.event(from: record, in: line)
            if decision == nil, let filter, !filter.query.matches(event) { return nil }
            return LogEntry(event: event, line: keepLines ? String(decoding: line, as: UTF8.self) : nil, file: path,
                            lineNumber: lineNumber)
        } catch {
            warning(LogWarning(file: path, line: lineNumber, message: "skipped a malformed line: \(error)"))
            return nil
        }
    }

    private func openCurrent() {
        guard let opened = try? LogFileSource(path: path) else { return }
        var info = stat()
        guard !opened.isCompressed, fstat(opened.plainDescriptor, &info) == 0 else { return }
        identity = (UInt64(info.st_dev), UInt64(info.st_ino))
        buffer.reset()
        lineNumber = 0
        offset = 0
        if startAtEnd {
            offset = Int(lseek(opened.plainDescriptor, 0, SEEK_END))
            // Line numbers then count from where following began.
        }
        source = opened
    }
}
