// Bounds-guarded big-endian reads over a raw buffer.
//
// The decoder proves every range before it reads, so a read outside the buffer means a
// synwall bug. Debug builds (and so the tests, including the fuzz test) trap on it through
// `assert`, which makes such a bug loud; release builds return 0 instead of reading out of
// bounds, so no input can make the daemon read foreign memory or trap.

extension UnsafeRawBufferPointer {
    /// The byte at `offset`, or 0 when `offset` is outside the buffer.
    @inline(__always)
    func byte(_ offset: Int) -> UInt8 {
        assert(offset >= 0 && offset < count, "Wire: read of byte \(offset) in a \(count)-byte buffer")
        guard offset >= 0, offset < count else { return 0 }
        return self[offset]
    }

    /// The big-endian 16-bit value at `offset`, or 0 when it is not wholly inside the buffer.
    @inline(__always)
    func uint16(_ offset: Int) -> UInt16 {
        assert(offset >= 0 && offset <= count - 2, "Wire: 2-byte read at \(offset) in a \(count)-byte buffer")
        guard offset >= 0, offset <= count - 2 else { return 0 }
        return UInt16(self[offset]) << 8 | UInt16(self[offset + 1])
    }

    /// The big-endian 32-bit value at `offset`, or 0 when it is not wholly inside the buffer.
    @inline(__always)
    func uint32(_ offset: Int) -> UInt32 {
        assert(offset >= 0 && offset <= count - 4, "Wire: 4-byte read at \(offset) in a \(count)-byte buffer")
        guard offset >= 0, offset <= count - 4 else { return 0 }
        return UInt32(self[offset]) << 24 | UInt32(self[offset + 1]) << 16
            | UInt32(self[offset + 2]) << 8 | UInt32(self[offset + 3])
    }

    /// The big-endian 64-bit value at `offset`, or 0 when it is not wholly inside the buffer.
    @inline(__always)
    func uint64(_ offset: Int) -> UInt64 {
        UInt64(uint32(offset)) << 32 | UInt64(uint32(offset + 4))
    }
}
