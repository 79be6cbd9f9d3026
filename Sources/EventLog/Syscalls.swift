#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The only calls into libc of the EventLog module, each returning its result with the errno
/// read right after the call. Tests replace them (``JSONLinesWriter`` keeps a copy) to force
/// `EINTR`, short writes and failures.
struct Syscalls: Sendable {
    /// `open(path, flags, mode)`: (descriptor or -1, errno).
    var open: @Sendable (_ path: String, _ flags: Int32, _ mode: mode_t) -> (Int32, Int32)
    /// `write(fd, bytes, count)`: (bytes written or -1, errno).
    var write: @Sendable (_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> (Int, Int32)
    /// `close(fd)`; the result is ignored, see ``JSONLinesWriter``.
    var close: @Sendable (_ fd: Int32) -> Void

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
