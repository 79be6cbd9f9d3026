import SystemPackage
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The system-call vocabulary of synwall's edges to the OS, written once: a call interrupted
/// by a signal is retried here and nowhere else, and errno reads as swift-system's `Errno`
/// (whose description is the C library's text for it). Pure Swift over libc: usable from any
/// module, the packet path included (``retryingInterrupts(_:)`` inlines to the loop it
/// replaces and allocates nothing).
public enum SystemCall {
    /// Calls `call` again for as long as it fails with EINTR (a signal arrived before it
    /// finished), and returns its first other result. For calls that return -1 and set errno
    /// on failure (`read`, `write`, `recv`, `send`, `pread`, `recvmmsg`, `mnl_socket_sendto`,
    /// …); on return `errno` is still the failed call's. Never for `close` (the descriptor is
    /// gone either way) nor for calls whose EINTR means "the wait was cut short" to their
    /// caller (`poll` with a deadline computes what is left itself).
    @inlinable @inline(__always)
    public static func retryingInterrupts<Result: FixedWidthInteger & SignedInteger>(
        _ call: () -> Result
    ) -> Result {
        while true {
            let result = call()
            if result != -1 || errno != EINTR { return result }
        }
    }

    /// The text of errno `code`, e.g. "No such file or directory".
    public static func describe(_ code: Int32) -> String {
        Errno(rawValue: code).description
    }

    /// The text of the current errno (read it before any other call can change it).
    public static var lastError: String {
        describe(errno)
    }
}
