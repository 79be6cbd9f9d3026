import SystemCall

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Buffered text output for `synwall log`: to a file descriptor (standard output), or to a
/// closure (tests). Written out at 64 KiB and on ``flush()``.
public final class LogTextOutput {
    private var buffer: [UInt8] = []
    private let sink: ([UInt8]) -> Void
    private static let threshold = 64 * 1024

    /// Writes to `fileDescriptor` (1 for standard output); a write error (a closed pipe)
    /// drops the rest silently, as `head` expects.
    public convenience init(fileDescriptor: Int32) {
        self.init { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = bytes[offset...].withUnsafeBytes { chunk in
                    SystemCall.retryingInterrupts { writeDescriptor(fileDescriptor, chunk.baseAddress, chunk.count) }
                }
                if n > 0 {
                    offset += n
                } else {
                    return
                }
            }
        }
    }

    /// Hands each flushed chunk of text to `capture`.
    public convenience init(capture: @escaping (String) -> Void) {
        self.init(bytes: { capture(String(decoding: $0, as: UTF8.self)) })
    }

    private init(bytes sink: @escaping ([UInt8]) -> Void) {
        self.sink = sink
        buffer.reserveCapacity(Self.threshold + 4096)
    }

    deinit {
        flush()
    }

    /// Appends `text` (add your own newlines).
    public func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= Self.threshold { flush() }
    }

    /// Appends `text` and a newline.
    public func line(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        buffer.append(0x0A)
        if buffer.count >= Self.threshold { flush() }
    }

    /// Writes out what is buffered.
    public func flush() {
        guard !buffer.isEmpty else { return }
        sink(buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}

private func writeDescriptor(_ fd: Int32, _ bytes: UnsafeRawPointer?, _ count: Int) -> Int {
    write(fd, bytes, count)
}
