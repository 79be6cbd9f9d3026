#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fixed buffer that cuts a file's bytes into lines without copying them: lines are handed
/// out as views into the buffer, valid until the next ``fill(from:)``. A line longer than the
/// buffer is dropped (and counted in ``overlongLines``) rather than grown into.
final class LogLineBuffer {
    let capacity: Int
    private let storage: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0
    /// Dropping the rest of an overlong line until its newline.
    private var skipping = false
    /// Overlong lines dropped since the last ``takeOverlongLines()``.
    private(set) var overlongLines = 0

    init(capacity: Int = 1 << 20) {
        self.capacity = max(64, capacity)
        storage = .allocate(byteCount: self.capacity, alignment: 16)
    }

    deinit {
        storage.deallocate()
    }

    /// Whether bytes of an unfinished line are buffered.
    var hasPartialLine: Bool { end > start && !skipping }

    /// Moves what is left to the front and reads more after it.
    ///
    /// - Returns: bytes read (0 at the end of the file).
    func fill(from source: LogFileSource) throws(LogReadError) -> Int {
        if start > 0 {
            if end > start, let base = storage.baseAddress {
                memmove(base, base + start, end - start)
            }
            end -= start
            start = 0
        }
        if end == capacity {
            // A full buffer without a newline: the line is too long to be a record.
            if !skipping { overlongLines += 1 }
            skipping = true
            end = 0
        }
        let n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: storage[end...]))
        end += n
        return n
    }

    /// The next complete line (without its `\n`), or nil when no newline is buffered.
    func nextLine() -> UnsafeBufferPointer<UInt8>? {
        while start < end, let base = storage.baseAddress {
            let from = base + start
            guard let newline = memchr(from, 0x0A, end - start) else { return nil }
            let length = newline - from
            let line = UnsafeBufferPointer(start: from.assumingMemoryBound(to: UInt8.self), count: length)
            start += length + 1
            if skipping {
                skipping = false  // the tail of an overlong line: dropped
                continue
            }
            return line
        }
        return nil
    }

    /// The unfinished line's bytes (at the end of a file), and forgets them.
    func takePartialLine() -> UnsafeBufferPointer<UInt8>? {
        defer {
            start = 0
            end = 0
            skipping = false
        }
        guard hasPartialLine, let base = storage.baseAddress else { return nil }
        return UnsafeBufferPointer(start: (base + start).assumingMemoryBound(to: UInt8.self), count: end - start)
    }

    /// Forgets everything buffered.
    func reset() {
        start = 0
        end = 0
        skipping = false
    }

    /// Returns and clears the overlong-line count.
    func takeOverlongLines() -> Int {
        defer { overlongLines = 0 }
        return overlongLines
    }
}
