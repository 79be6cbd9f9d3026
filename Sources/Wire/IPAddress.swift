/// An IPv4 or IPv6 address as a 128-bit value.
///
/// IPv4 addresses are stored IPv4-mapped (`::ffff:a.b.c.d`, RFC 4291 §2.5.5.2), so one type
/// and one hash serve both families. Ordering compares the 128-bit value, which sorts all
/// IPv4 addresses together in numeric order.
public struct IPAddress: Hashable, Sendable, Comparable {
    /// The first 64 bits, in host byte order (bits 0…63 of the address).
    public let high: UInt64
    /// The last 64 bits, in host byte order (bits 64…127 of the address).
    public let low: UInt64

    @usableFromInline static let mappedPrefix: UInt64 = 0x0000_FFFF_0000_0000

    /// An IPv6 address from its two halves, each in host byte order.
    @inlinable
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// An IPv4 address from the host-order value of `a.b.c.d` (`a` in the top byte).
    @inlinable
    public init(ipv4: UInt32) {
        self.high = 0
        self.low = IPAddress.mappedPrefix | UInt64(ipv4)
    }

    /// True for an IPv4 address (stored as `::ffff:a.b.c.d`).
    @inlinable
    public var isIPv4: Bool { high == 0 && low & 0xFFFF_FFFF_0000_0000 == IPAddress.mappedPrefix }

    /// The host-order IPv4 value, or nil for an IPv6 address.
    @inlinable
    public var ipv4: UInt32? { isIPv4 ? UInt32(truncatingIfNeeded: low) : nil }

    /// True for a multicast address: 224.0.0.0/4 or ff00::/8.
    @inlinable
    public var isMulticast: Bool {
        isIPv4 ? UInt32(truncatingIfNeeded: low) >> 28 == 0xE : high >> 56 == 0xFF
    }

    /// True for the IPv4 limited broadcast address 255.255.255.255.
    @inlinable
    public var isLimitedBroadcast: Bool { isIPv4 && UInt32(truncatingIfNeeded: low) == 0xFFFF_FFFF }

    /// True for the unspecified address: 0.0.0.0 or `::`.
    @inlinable
    public var isUnspecified: Bool {
        isIPv4 ? UInt32(truncatingIfNeeded: low) == 0 : (high == 0 && low == 0)
    }

    /// True for a loopback address: 127.0.0.0/8 or `::1`.
    @inlinable
    public var isLoopback: Bool {
        isIPv4 ? UInt32(truncatingIfNeeded: low) >> 24 == 127 : (high == 0 && low == 1)
    }

    /// Orders by the 128-bit value.
    @inlinable
    public static func < (lhs: IPAddress, rhs: IPAddress) -> Bool {
        lhs.high != rhs.high ? lhs.high < rhs.high : lhs.low < rhs.low
    }
}

extension IPAddress {
    /// The IPv4 address whose four bytes start at `offset` (bounds proven by the caller).
    @inline(__always)
    static func ipv4(in bytes: UnsafeRawBufferPointer, at offset: Int) -> IPAddress {
        IPAddress(ipv4: bytes.uint32(offset))
    }

    /// The IPv6 address whose sixteen bytes start at `offset` (bounds proven by the caller).
    @inline(__always)
    static func ipv6(in bytes: UnsafeRawBufferPointer, at offset: Int) -> IPAddress {
        IPAddress(high: bytes.uint64(offset), low: bytes.uint64(offset + 8))
    }
}

extension IPAddress {
    /// The address in network byte order: 4 bytes for IPv4 (also when mapped), 16 otherwise.
    public var networkBytes: [UInt8] {
        if let v4 = ipv4 { return withUnsafeBytes(of: v4.bigEndian) { Array($0) } }
        return withUnsafeBytes(of: high.bigEndian) { Array($0) } + withUnsafeBytes(of: low.bigEndian) { Array($0) }
    }
}
