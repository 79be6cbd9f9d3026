#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The writer's calls into libc, each returning its result with the errno read right after
/// the call. Tests replace them (``JSONLinesWriter`` and ``EventLogService`` keep a copy) to
/// force `EINTR`, short writes and failures. (The reader, which never writes, calls libc
/// directly in `LogReview`'s `LogFileSource`.)
struct Syscalls: Sendable {
    /// `open(path, flags, mode)`: (descriptor or -1, errno).
    var open: @Sendable (_ path: String, _ flags: Int32, _ mode: mode_t) -> (Int32, Int32)
    /// `write(fd, bytes, count)`: (bytes written or -1, errno).
    var write: @Sendable (_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> (Int, Int32)
    /// `close(fd)`; the result is ignored, see ``JSONLinesWriter``.
    var close: @Sendable (_ fd: Int32) -> Void
    /// The size of the open file `fd`, or nil when `fstat` fails.
    var fileSize: @Sendable (_ fd: Int32) -> Int?
    /// The last byte of the file at `path`, or nil when it is empty, missing or unreadable.
    var lastByte: @Sendable (_ path: String) -> UInt8?
    /// `rename(from, to)`: errno, 0 on success.
    var rename: @Sendable (_ from: String, _ to: String) -> Int32
    /// `unlink(path)`: errno, 0 on success.
    var unlink: @Sendable (_ path: String) -> Int32

    static let live = Syscalls(
        open: { path, flags, mode in
            let fd = systemOpen(path, flags, mode)
            return (fd, fd < 0 ? errno : 0)
        },
        write: { fd, bytes, count in
            let written = systemWrite(fd, bytes, count)
            return (written, written < 0 ? errno : 0)
        },
        close: { fd in
            // Not retried on EINTR: on Linux the descriptor is released even then, and a retry
            // could close a descriptor another thread has just been given.
            _ = systemClose(fd)
        },
        fileSize: { fd in
            var info = stat()
            guard fstat(fd, &info) == 0 else { return nil }
            return Int(info.st_size)
        },
        lastByte: { path in
            let fd = systemOpen(path, O_RDONLY | O_CLOEXEC, 0)
            guard fd >= 0 else { return nil }
            defer { _ = systemClose(fd) }
            var info = stat()
            guard fstat(fd, &info) == 0, info.st_size > 0 else { return nil }
            var byte: UInt8 = 0
            guard pread(fd, &byte, 1, info.st_size - 1) == 1 else { return nil }
            return byte
        },
        rename: { from, to in
            systemRename(from, to) == 0 ? 0 : errno
        },
        unlink: { path in
            systemUnlink(path) == 0 ? 0 : errno
        })
}

@inline(never)
private func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 {
    open(path, flags, mode)
}

@inline(never)
private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, bytes, count)
}

@inline(never)
private func systemClose(_ fd: Int32) -> Int32 {
    close(fd)
}

@inline(never)
private func systemRename(_ from: String, _ to: String) -> Int32 {
    rename(from, to)
}

@inline(never)
private func systemUnlink(_ path: String) -> Int32 {
    unlink(path)
}
