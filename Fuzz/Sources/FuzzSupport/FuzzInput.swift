/// Reads a fuzzer's bytes as a stream of small choices; past the end every read gives zero,
/// so any input drives a whole, bounded run.
public struct FuzzInput {
    public let bytes: UnsafeRawBufferPointer
    public private(set) var offset = 0

    /// A reader over `bytes` (valid for the duration of one fuzz input).
    public init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// Whether every byte has been read.
    public var isAtEnd: Bool { offset >= bytes.count }

    /// The next byte (0 past the end).
    public mutating func byte() -> UInt8 {
        guard offset < bytes.count else { return 0 }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// The next two bytes, big-endian.
    public mutating func uint16() -> UInt16 {
        UInt16(byte()) << 8 | UInt16(byte())
    }

    /// The next four bytes, big-endian.
    public mutating func uint32() -> UInt32 {
        UInt32(uint16()) << 16 | UInt32(uint16())
    }

    /// Up to `count` next bytes.
    public mutating func take(_ count: Int) -> [UInt8] {
        let n = max(0, min(count, bytes.count - offset))
        defer { offset += n }
        return Array(bytes[offset ..< offset + n])
    }

    /// A value in `0 ..< bound` (0 when `bound` is 0).
    public mutating func choose(_ bound: Int) -> Int {
        bound <= 1 ? 0 : Int(byte()) % bound
    }
}

/// Stops the run with a message libFuzzer records as a crash (an invariant broke).
public func fuzzCheck(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
                      file: StaticString = #fileID, line: UInt = #line) {
    if !condition() {
        let text = "fuzz invariant failed at \(file):\(line): \(message())\n"
        _ = text.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
        abort()
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
