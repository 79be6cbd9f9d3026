/// The bytes of a `synwall peer` download, and the running tally that checks them.
///
/// The stream is a fixed pseudo-random pattern (SplitMix64 of each 8-byte word's index, little
/// endian), so the receiver can check every byte where it stands, without the sender's help:
/// a byte injected, lost or moved shows as a mismatch. Both ends also keep an FNV-1a (64-bit)
/// checksum of the bytes they handled, to compare at the end.
public struct DownloadPattern: Sendable, Equatable {
    /// Bytes produced or consumed so far: the offset of the next byte.
    public private(set) var offset: UInt64 = 0
    /// Bytes consumed that differ from the pattern.
    public private(set) var mismatches = 0
    /// FNV-1a 64 of every byte produced or consumed so far.
    public private(set) var checksum: UInt64 = 0xcbf2_9ce4_8422_2325

    /// A tally at the start of the stream.
    public init() {}

    /// The pattern's word `index` (bytes `8 * index` … `8 * index + 7`, little endian).
    @inline(__always)
    static func word(_ index: UInt64) -> UInt64 {
        var z = index &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Fills `buffer` with the next bytes of the pattern.
    public mutating func produce(into buffer: UnsafeMutableRawBufferPointer) {
        var sum = checksum
        var position = offset
        var current = Self.word(position >> 3)
        for index in 0..<buffer.count {
            if position & 7 == 0 { current = Self.word(position >> 3) }
            let byte = UInt8(truncatingIfNeeded: current >> ((position & 7) << 3))
            buffer[index] = byte
            sum = (sum ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            position &+= 1
        }
        offset = position
        checksum = sum
    }

    /// Takes the next received bytes: counts those that differ from the pattern at their
    /// offset, and adds them all to the checksum.
    public mutating func consume(_ bytes: UnsafeRawBufferPointer) {
        var sum = checksum
        var position = offset
        var wrong = 0
        var current = Self.word(position >> 3)
        for byte in bytes {
            if position & 7 == 0 { current = Self.word(position >> 3) }
            if byte != UInt8(truncatingIfNeeded: current >> ((position & 7) << 3)) { wrong += 1 }
            sum = (sum ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            position &+= 1
        }
        offset = position
        checksum = sum
        mismatches += wrong
    }

    /// The checksum as 16 hex digits.
    public var checksumText: String {
        let digits = String(checksum, radix: 16)
        return String(repeating: "0", count: max(0, 16 - digits.count)) + digits
    }
}
