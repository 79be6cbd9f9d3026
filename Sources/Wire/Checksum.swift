/// The Internet checksum (RFC 1071): verification for IPv4 headers and for TCP, UDP, ICMP and
/// ICMPv6 with their pseudo-headers (RFC 9293, 768, 792, 8200 §8.1), and filling for packets
/// built in tests and fixtures.
public enum Checksum {
    /// True when `bytes` starts with an IPv4 header (version 4, IHL ≥ 5, the whole header in
    /// the buffer) whose checksum is correct.
    public static func verifyIPv4Header(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let length = ipv4HeaderLength(bytes) else { return false }
        return fold(sum(bytes, 0, length)) == 0xFFFF
    }

    /// Whether the TCP, UDP, ICMP or ICMPv6 checksum of `packet` (decoded from `bytes`) is
    /// correct, pseudo-header included. Nil when it cannot be checked: the buffer is a
    /// truncated copy, the packet is a fragment, the transport has no checksum here (other
    /// protocols), the UDP checksum is 0 on IPv4 ("not computed"), or an IPv6 routing header
    /// hides the final destination in a form this decoder does not read. A UDP checksum of 0
    /// on IPv6 is invalid (RFC 8200 §8.1): false.
    public static func verifyTransport(_ packet: Packet, in bytes: UnsafeRawBufferPointer) -> Bool? {
        guard let computed = transportSum(packet, bytes, excludingField: false) else { return nil }
        if case .udp(let header) = packet.transport, header.checksum == 0 {
            return packet.version == .v4 ? nil : false
        }
        return computed == 0xFFFF
    }

    /// The Internet checksum of `bytes`: the complement of their one's-complement sum as
    /// 16-bit big-endian words (a trailing odd byte padded with zero), in host order.
    public static func internetChecksum(_ bytes: UnsafeRawBufferPointer) -> UInt16 {
        ~fold(sum(bytes, 0, bytes.count))
    }

    /// Writes the IPv4 header checksum of the packet in `bytes`; false (nothing written) when
    /// `bytes` does not start with a whole IPv4 header.
    @discardableResult
    public static func fillIPv4Header(_ bytes: UnsafeMutableRawBufferPointer) -> Bool {
        let view = UnsafeRawBufferPointer(bytes)
        guard let length = ipv4HeaderLength(view) else { return false }
        store(0, at: 10, in: bytes)
        store(~fold(sum(view, 0, length)), at: 10, in: bytes)
        return true
    }

    /// Writes the IPv4 header checksum (for IPv4) and the TCP, UDP, ICMP or ICMPv6 checksum of
    /// the packet in `bytes`. False when the packet does not decode or its transport checksum
    /// cannot be computed (see `verifyTransport`); the IPv4 header checksum is written anyway.
    @discardableResult
    public static func fill(_ bytes: UnsafeMutableRawBufferPointer) -> Bool {
        let view = UnsafeRawBufferPointer(bytes)
        if view.count > 0, view[0] >> 4 == 4 { fillIPv4Header(bytes) }
        guard let packet = PacketDecoder.decode(view).packet,
              let field = checksumFieldOffset(packet),
              let computed = transportSum(packet, view, excludingField: true) else { return false }
        var value = ~computed
        if value == 0, case .udp = packet.transport { value = 0xFFFF }  // 0 means "none" for UDP
        store(value, at: packet.transportOffset + field, in: bytes)
        if value == 0, transportSum(packet, view, excludingField: false) != 0xFFFF {
            // Everything summed is zero (an all-zero ICMP message: no pseudo-header): only
            // 0xFFFF, the other form of one's-complement zero, verifies.
            store(0xFFFF, at: packet.transportOffset + field, in: bytes)
        }
        return true
    }

    /// `fill` for a byte array.
    @discardableResult
    public static func fill(_ packet: inout [UInt8]) -> Bool {
        packet.withUnsafeMutableBytes { fill($0) }
    }

    // MARK: Internals

    static func ipv4HeaderLength(_ bytes: UnsafeRawBufferPointer) -> Int? {
        guard bytes.count >= 20, bytes[0] >> 4 == 4 else { return nil }
        let length = Int(bytes[0] & 0x0F) * 4
        guard length >= 20, length <= bytes.count else { return nil }
        return length
    }

    static func checksumFieldOffset(_ packet: Packet) -> Int? {
        switch packet.transport {
        case .tcp: 16
        case .udp: 6
        case .icmp, .icmpv6: 2
        case .fragment, .other: nil
        }
    }

    /// The folded one's-complement sum over the transport bytes and pseudo-header (0xFFFF
    /// when a checksum in place is correct), or nil when it cannot be computed.
    static func transportSum(_ packet: Packet, _ bytes: UnsafeRawBufferPointer, excludingField: Bool) -> UInt16? {
        guard !packet.fragment.isFragment, let field = checksumFieldOffset(packet),
              packet.ipTotalLength <= bytes.count, packet.transportOffset <= packet.ipTotalLength else { return nil }
        let start = packet.transportOffset
        var length = packet.ipTotalLength - start
        if case .udp(let header) = packet.transport { length = min(length, Int(header.length)) }
        guard field + 2 <= length else { return nil }

        var total = sum(bytes, start, length)
        if excludingField { total &+= UInt64(~bytes.uint16(start + field)) }  // cancels the field
        switch packet.version {
        case .v4:
            if case .icmp = packet.transport { break }  // ICMP has no pseudo-header
            guard let source = packet.source.ipv4, let destination = packet.destination.ipv4 else { return nil }
            total &+= UInt64(source >> 16) &+ UInt64(source & 0xFFFF)
            total &+= UInt64(destination >> 16) &+ UInt64(destination & 0xFFFF)
            total &+= UInt64(packet.protocolNumber) &+ UInt64(length)
        case .v6:
            guard let destination = finalDestination(packet, bytes) else { return nil }
            total &+= words(packet.source) &+ words(destination)
            total &+= UInt64(length >> 16) &+ UInt64(length & 0xFFFF) &+ UInt64(packet.protocolNumber)
        }
        return fold(total)
    }

    /// The IPv6 destination the upper layer sees (RFC 8200 §8.1): the last address of a
    /// routing header with segments left, else the fixed header's.
    static func finalDestination(_ packet: Packet, _ bytes: UnsafeRawBufferPointer) -> IPAddress? {
        let offset = packet.routingHeaderOffset
        guard offset >= 0 else { return packet.destination }
        guard offset + 8 <= bytes.count else { return nil }
        let headerLength = (Int(bytes[offset + 1]) + 1) * 8
        let segmentsLeft = bytes[offset + 3]
        guard segmentsLeft != 0 else { return packet.destination }
        guard offset + headerLength <= bytes.count else { return nil }
        switch bytes[offset + 2] {
        case 0:  // RFC 2460 type 0 (deprecated): addresses in order, the last is final.
            let addresses = (headerLength - 8) / 16
            guard addresses > 0 else { return nil }
            return .ipv6(in: bytes, at: offset + 8 + (addresses - 1) * 16)
        case 2, 4:  // Mobile IPv6 home address; segment routing list entry 0 is final.
            guard headerLength >= 24 else { return nil }
            return .ipv6(in: bytes, at: offset + 8)
        default:
            return nil
        }
    }

    @inline(__always)
    static func words(_ address: IPAddress) -> UInt64 {
        var total: UInt64 = 0
        for shift in stride(from: 0, to: 64, by: 16) {
            total &+= (address.high >> UInt64(shift)) & 0xFFFF
            total &+= (address.low >> UInt64(shift)) & 0xFFFF
        }
        return total
    }

    /// One's-complement sum of `bytes[start..<start+length]` as big-endian 16-bit words, not
    /// yet folded. Reads eight bytes at a time in native order and swaps once at the end
    /// (RFC 1071 §2(B): the sum is byte-order independent).
    static func sum(_ bytes: UnsafeRawBufferPointer, _ start: Int, _ length: Int) -> UInt64 {
        guard start >= 0, length > 0, start <= bytes.count - length else { return 0 }
        var native: UInt64 = 0
        var index = start
        let end = start + length
        while index + 8 <= end {
            let value = bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            native &+= (value & 0xFFFF_FFFF) &+ (value >> 32)
            index += 8
        }
        while index + 2 <= end {
            native &+= UInt64(bytes.loadUnaligned(fromByteOffset: index, as: UInt16.self))
            index += 2
        }
        var folded = UInt16(truncatingIfNeeded: foldNative(native))
        folded = UInt16(bigEndian: folded)
        var total = UInt64(folded)
        if index < end { total &+= UInt64(bytes[index]) << 8 }
        return total
    }

    /// Folds a native-order sum of 32-bit and 16-bit chunks to 16 bits.
    @inline(__always)
    static func foldNative(_ value: UInt64) -> UInt64 {
        var value = value
        while value > 0xFFFF { value = (value & 0xFFFF) &+ (value >> 16) }
        return value
    }

    /// Folds a sum to 16 bits with end-around carry.
    @inline(__always)
    static func fold(_ value: UInt64) -> UInt16 {
        UInt16(truncatingIfNeeded: foldNative(value))
    }

    static func store(_ value: UInt16, at offset: Int, in bytes: UnsafeMutableRawBufferPointer) {
        guard offset >= 0, offset + 2 <= bytes.count else { return }
        bytes[offset] = UInt8(truncatingIfNeeded: value >> 8)
        bytes[offset + 1] = UInt8(truncatingIfNeeded: value)
    }
}
