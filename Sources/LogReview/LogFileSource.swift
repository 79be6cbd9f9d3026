import CZlib
import EventLog

import SystemCall

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Bytes of one log file, plain or gzip'd (recognised by its magic bytes `1f 8b`, whatever
/// its name), read in large chunks. Used by ``LogReader`` and ``LogFollower``.
final class LogFileSource {
    let path: String
    private var descriptor: Int32
    private var gzip: gzFile?
    /// Whether the file is gzip'd.
    let isCompressed: Bool

    /// Opens `path` for reading.
    init(path: String) throws(LogReadError) {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpen(path: path, errno: errno) }
        var magic: (UInt8, UInt8) = (0, 0)
        let got = withUnsafeMutableBytes(of: &magic) { pread(fd, $0.baseAddress, 2, 0) }
        isCompressed = got == 2 && magic.0 == 0x1F && magic.1 == 0x8B
        descriptor = fd
        if isCompressed {
            // zlib owns the descriptor from here (gzclose closes it).
            guard let file = gzdopen(fd, "rb") else {
                closeDescriptor(fd)
                throw .cannotOpen(path: path, errno: ENOMEM)
            }
            gzbuffer(file, 1 << 18)
            gzip = file
            descriptor = -1
        }
    }

    deinit {
        close()
    }

    /// The open descriptor of a plain file (for ``LogFollower``'s `fstat`); -1 for gzip.
    var plainDescriptor: Int32 { descriptor }

    /// Reads up to `buffer.count` bytes.
    ///
    /// - Returns: bytes read; 0 at the end of the file.
    /// - Throws: ``LogReadError/cannotRead(path:reason:)``.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(LogReadError) -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        if let gzip {
            let n = gzread(gzip, base, UInt32(min(buffer.count, Int(Int32.max))))
            if n < 0 {
                var code: Int32 = 0
                let message = gzerror(gzip, &code).map { String(cString: $0) } ?? "gzip error \(code)"
                throw .cannotRead(path: path, reason: message)
            }
            return Int(n)
        }
        guard descriptor >= 0 else { return 0 }
        let n = SystemCall.retryingInterrupts { readDescriptor(descriptor, base, buffer.count) }
        guard n >= 0 else { throw .cannotRead(path: path, reason: SystemCall.lastError) }
        return n
    }

    /// Closes the file; reading then returns 0.
    func close() {
        if let gzip {
            gzclose(gzip)
            self.gzip = nil
        }
        if descriptor >= 0 {
            closeDescriptor(descriptor)
            descriptor = -1
        }
    }
}

private func readDescriptor(_ fd: Int32, _ base: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(fd, base, count)
}

/// Not retried on EINTR (see `EventLog`'s `Syscalls`).
private func closeDescriptor(_ fd: Int32) {
    _ = close(fd)
}
