#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Appends events to a JSON Lines file, never tearing a line and never throwing once open.
///
/// ``append(_:)`` encodes into a buffer that is reused, not reallocated; ``flush()`` hands all
/// complete lines to the kernel in one `write(2)` on a descriptor opened with `O_APPEND`, so
/// lines from another writer of the same file land between batches, never inside a line. The
/// buffer is flushed by itself when it reaches ``flushThreshold`` bytes; the owner calls
/// ``flush()`` after each batch of packets (or on a timer) and before exit.
///
/// A failed write (disk full, file system gone, `EBADF`) is counted in ``failedWrites``; the
/// buffered lines are dropped (counted in ``droppedEvents``) and writing goes on. `EINTR` is
/// retried and a short write is continued with the rest.
///
/// Confinement: one thread uses a writer at a time (a queue's worker). It has no lock; it is
/// `@unchecked Sendable` only so that it can be handed to the thread that owns it.
public final class JSONLinesWriter: @unchecked Sendable {
    /// The log file's path; ``reopen()`` opens this path again.
    public let path: String
    /// Buffered bytes that trigger a flush inside ``append(_:)``.
    public let flushThreshold: Int
    /// Write attempts that failed (each loses the lines buffered at the time).
    public private(set) var failedWrites: Int = 0
    /// Events whose line reached the file.
    public private(set) var writtenEvents: Int = 0
    /// Events lost to failed writes, or appended after ``close()``.
    public private(set) var droppedEvents: Int = 0
    /// Events encoded but not yet written.
    public private(set) var pendingEvents: Int = 0
    /// Bytes in the open file: its size when opened plus what this writer wrote since (for
    /// size-based rotation). Other writers of the same file are not seen.
    public private(set) var fileBytes: Int = 0
    /// Bytes encoded but not yet written.
    public var pendingBytes: Int { buffer.count }
    /// The errno of the last failed write, 0 while none failed.
    public private(set) var lastWriteErrno: Int32 = 0

    /// How many `EINTR` in a row one flush tolerates before counting a failure.
    static let maximumInterruptions = 64

    var syscalls: Syscalls
    private var descriptor: Int32
    private var buffer: [UInt8]
    private let encoder = JSONLinesEncoder()
    /// A failed write left part of a line in the file: the next write starts with a newline,
    /// so the lines after it stay parseable.
    private var endsInsideLine = false

    /// Opens (creating with mode 0640 if needed) `path` for appending.
    ///
    /// - Parameter flushThreshold: buffered bytes that make ``append(_:)`` flush; 64 KiB by default.
    /// - Throws: ``EventLogError/cannotOpen(path:errno:)`` when the file cannot be opened for
    ///   writing (missing directory, permissions, a directory at that path…).
    public convenience init(path: String, flushThreshold: Int = 64 * 1024) throws(EventLogError) {
        try self.init(path: path, flushThreshold: flushThreshold, syscalls: .live)
    }

    init(path: String, flushThreshold: Int, syscalls: Syscalls) throws(EventLogError) {
        self.path = path
        self.flushThreshold = max(1, flushThreshold)
        self.syscalls = syscalls
        self.descriptor = try Self.open(path, syscalls: syscalls)
        self.buffer = []
        self.buffer.reserveCapacity(self.flushThreshold + 1024)
        adoptOpenedFile()
    }

    /// After an open: learn the file's size, and whether a crash left its last line unfinished
    /// (then the next write starts with a newline, so that line stays alone and later lines
    /// parse).
    private func adoptOpenedFile() {
        fileBytes = syscalls.fileSize(descriptor) ?? 0
        endsInsideLine = fileBytes > 0 && syscalls.lastByte(path).map { $0 != UInt8(ascii: "\n") } ?? false
    }

    deinit {
        flush()
        if descriptor >= 0 { syscalls.close(descriptor) }
    }

    /// Encodes `event` into the buffer; flushes when the buffer reaches ``flushThreshold``.
    /// Never throws; after ``close()`` the event is dropped and counted.
    public func append(_ event: Event) {
        guard descriptor >= 0 else {
            droppedEvents += 1
            return
        }
        encoder.encode(event, into: &buffer)
        pendingEvents += 1
        if buffer.count >= flushThreshold {
            flush()
        }
    }

    /// Writes every buffered line with one `write(2)` (continued if the kernel takes only
    /// part). On failure counts ``failedWrites``, keeps the errno in ``lastWriteErrno`` and
    /// drops what was not written. Never throws.
    ///
    /// - Returns: false when a write failed (or the writer is closed and lines were dropped).
    @discardableResult
    public func flush() -> Bool {
        guard !buffer.isEmpty else { return true }
        guard descriptor >= 0 else {
            dropBuffer(written: 0, separator: false)
            return false
        }
        let separator = endsInsideLine
        if separator {
            buffer.insert(UInt8(ascii: "\n"), at: 0)  // rare path: after a torn write only
        }
        let total = buffer.count
        var written = 0
        var interruptions = 0
        var failed = false
        var failure: Int32 = 0
        buffer.withUnsafeBytes { bytes in
            guard let base = bytes.baseAddress else { return }
            // Bounded: each pass writes at least one byte, or counts an EINTR, or stops.
            while written < total {
                let (result, code) = syscalls.write(descriptor, base + written, total - written)
                if result > 0 {
                    written += result
                    interruptions = 0
                } else if result < 0 && code == EINTR && interruptions < Self.maximumInterruptions {
                    interruptions += 1
                } else {
                    failed = true  // an error, EINTR without end, or no progress (0 bytes)
                    failure = result < 0 ? code : EIO
                    return
                }
            }
        }
        fileBytes += written
        if failed {
            failedWrites += 1
            lastWriteErrno = failure
            if written > 0 {
                endsInsideLine = buffer[written - 1] != UInt8(ascii: "\n")
            }
            dropBuffer(written: written, separator: separator)
            return false
        } else {
            endsInsideLine = false
            lastWriteErrno = 0
            writtenEvents += pendingEvents
            pendingEvents = 0
            buffer.removeAll(keepingCapacity: true)
            return true
        }
    }

    /// Flushes, then opens ``path`` again and writes there from now on: after log rotation
    /// renamed or removed the file, this starts a fresh one. If the open fails the writer keeps
    /// the old file (or stays closed) and throws.
    ///
    /// - Throws: ``EventLogError/cannotOpen(path:errno:)``.
    public func reopen() throws(EventLogError) {
        flush()
        let newDescriptor = try Self.open(path, syscalls: syscalls)
        if descriptor >= 0 { syscalls.close(descriptor) }
        descriptor = newDescriptor
        adoptOpenedFile()
    }

    /// Flushes and closes the file. Later appends are dropped and counted; ``reopen()`` opens
    /// it again. Closing twice does nothing.
    public func close() {
        flush()
        if descriptor >= 0 {
            syscalls.close(descriptor)
            descriptor = -1
        }
    }

    /// Drops the buffer after `written` of its bytes reached the file; lines wholly written
    /// count as written, the rest as dropped. `separator`: the buffer starts with a newline
    /// that ends an earlier torn line and is not an event of its own.
    private func dropBuffer(written: Int, separator: Bool) {
        var newlines = 0
        for byte in buffer[..<written] where byte == UInt8(ascii: "\n") {
            newlines += 1
        }
        if separator && written > 0 { newlines -= 1 }
        let linesWritten = min(pendingEvents, newlines)
        writtenEvents += linesWritten
        droppedEvents += pendingEvents - linesWritten
        pendingEvents = 0
        buffer.removeAll(keepingCapacity: true)
    }

    private static func open(_ path: String, syscalls: Syscalls) throws(EventLogError) -> Int32 {
        let flags = O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC
        var attempts = 0
        // Bounded retry of EINTR (open on a FIFO or slow file system can be interrupted).
        while true {
            let (fd, code) = syscalls.open(path, flags, 0o640)
            if fd >= 0 { return fd }
            attempts += 1
            if code != EINTR || attempts >= maximumInterruptions {
                throw .cannotOpen(path: path, errno: code)
            }
        }
    }
}
