import SystemCall
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite struct SystemCallTests {
    @Test("a call interrupted by a signal is called again until it gives another answer")
    func retriesInterrupts() {
        var calls = 0
        let result = SystemCall.retryingInterrupts { () -> Int in
            calls += 1
            if calls < 3 {
                errno = EINTR
                return -1
            }
            return 42
        }
        #expect(result == 42 && calls == 3)
    }

    @Test("any other failure comes back at once, with its errno")
    func otherFailures() {
        var calls = 0
        let result = SystemCall.retryingInterrupts { () -> Int32 in
            calls += 1
            errno = EAGAIN
            return -1
        }
        #expect(result == -1 && calls == 1 && errno == EAGAIN)
    }

    @Test("errno's text is the C library's")
    func text() {
        #expect(SystemCall.describe(ENOENT) == String(cString: strerror(ENOENT)))
        errno = EACCES
        #expect(SystemCall.lastError == "Permission denied")
    }
}
