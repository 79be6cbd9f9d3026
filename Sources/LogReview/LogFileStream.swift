/// Records from a list of files read one after another (a log and its rotations, oldest
/// first). A malformed line, an unreadable file or a damaged gzip stream becomes a warning and
/// reading goes on with the next line or file.
final class LogFileStream {
    private let files: [String]
    private let keepLines: Bool
    private let warn: (LogWarning) -> Void
    private var fileIndex = -1
    private var source: LogFileSource?
    private let buffer: LogLineBuffer
    private var parser = LogLineParser()
    private var lineNumber = 0
    private var atEndOfFile = false
    private let filter: CompiledLogQuery?
    /// Records read so far, matching or not (malformed lines not counted).
    private(set) var recordsRead = 0

    /// - Parameters:
    ///   - files: paths in reading order.
    ///   - keepLines: keep each line's text in ``LogEntry/line``.
    ///   - query: only records that match are handed out (nil: all).
    ///   - warn: told about each skipped line or file.
    init(files: [String], keepLines: Bool, query: LogQuery? = nil, bufferSize: Int = 1 << 20,
         warn: @escaping (LogWarning) -> Void) {
        self.files = files
        self.keepLines = keepLines
        filter = query.flatMap { $0.isEmpty ? nil : CompiledLogQuery($0) }
        self.warn = warn
        buffer = LogLineBuffer(capacity: bufferSize)
    }

    /// The next (matching) record, or nil when every file is done.
    func next() -> LogEntry? {
        while true {
            guard let source else {
                guard openNextFile() else { return nil }
                continue
            }
            if let line = buffer.nextLine() {
                lineNumber += 1
                if let entry = entry(for: line, file: source.path, partial: false) { return entry }
                continue
            }
            if atEndOfFile {
                if let partial = buffer.takePartialLine() {
                    lineNumber += 1
                    if let entry = entry(for: partial, file: source.path, partial: true) {
                        finishFile()
                        return entry
                    }
                }
                finishFile()
                continue
            }
            do {
                if try buffer.fill(from: source) == 0 {
                    atEndOfFile = true
                }
                reportOverlongLines(source.path)
            } catch {
                warn(LogWarning(file: source.path, line: nil, message: error.description))
                finishFile()
            }
        }
    }

    private func entry(for line: UnsafeBufferPointer<UInt8>, file: String, partial: Bool) -> LogEntry? {
        if Self.isBlank(line) { return nil }
        do {
            let record = try parser.scan(line)
            recordsRead += 1
            let decision = filter?.matches(record, in: line)
            if decision == false { return nil }
            let event = try parser.event(from: record, in: line)
            if decision == nil, let filter, !filter.query.matches(event) { return nil }
            return LogEntry(event: event, line: keepLines ? String(decoding: line, as: UTF8.self) : nil,
                            file: file, lineNumber: lineNumber)
        } catch {
            let what = partial ? "skipped an unfinished last line (cut by a crash, or still being written)"
                : "skipped a malformed line"
            warn(LogWarning(file: file, line: lineNumber, message: "\(what): \(error)"))
            return nil
        }
    }

    private func reportOverlongLines(_ file: String) {
        let overlong = buffer.takeOverlongLines()
        if overlong > 0 {
            warn(LogWarning(file: file, line: nil,
                            message: "skipped a line longer than \(buffer.capacity) bytes (not a synwall record)"))
        }
    }

    private func openNextFile() -> Bool {
        while fileIndex + 1 < files.count {
            fileIndex += 1
            let path = files[fileIndex]
            do {
                source = try LogFileSource(path: path)
                buffer.reset()
                lineNumber = 0
                atEndOfFile = false
                return true
            } catch {
                warn(LogWarning(file: path, line: nil, message: error.description))
            }
        }
        return false
    }

    private func finishFile() {
        source?.close()
        source = nil
        buffer.reset()
    }

    private static func isBlank(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        for byte in line where byte != 0x20 && byte != 0x09 && byte != 0x0D { return false }
        return true
    }
}
