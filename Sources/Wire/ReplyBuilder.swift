/// Builds the answer to a refused packet (`block return…`): a TCP RST or an ICMP/ICMPv6
/// destination unreachable, as a whole IP packet ready for a raw socket, from the refused
/// packet's own addresses (the answer comes from the address the sender was trying to reach).
/// Writes into a caller's buffer: nothing is allocated.
public enum ReplyBuilder {
    /// The largest answer written (IPv6's minimum MTU); `out` must hold at least this many bytes.
    public static let maximumLength = 1280
    /// IPv4 ICMP errors quote the refused packet up to a 576-byte answer (RFC 1812 4.3.2.3).
    static let ipv4AnswerLimit = 576

    /// Writes the answer of `kind` to `packet` (decoded from `bytes`) into `out` and returns its
    /// length; 0 when no answer is due: never to a RST, to an ICMP error, to a fragment other than
    /// the first, to or from a multicast, broadcast or unspecified address, or to a packet whose
    /// TCP header was not read.
    public static func build(_ kind: ReplyKind, to packet: Packet, bytes: UnsafeRawBufferPointer,
                             into out: UnsafeMutableRawBufferPointer) -> Int {
        guard out.count >= maximumLength, !packet.source.isMulticast, !packet.source.isUnspecified,
              !packet.source.isLimitedBroadcast, !packet.destination.isMulticast, !packet.destination.isLimitedBroadcast,
              !packet.destination.isUnspecified, packet.fragment.offset == 0 else { return 0 }
        if case .icmp(let icmp) = packet.transport, icmp.isError { return 0 }
        if packet.protocolNumber == 58, case .icmp(let icmp) = packet.transport, icmp.type < 128 { return 0 }
        let v6 = packet.version == .v6
        let ipLength = v6 ? 40 : 20
        var transportLength: Int
        let protocolNumber: UInt8
        switch kind {
        case .tcpReset:
            guard let tcp = packet.tcp, !tcp.flags.contains(.rst) else { return 0 }
            protocolNumber = 6
            transportLength = 20
            let t = ipLength
            for i in 0..<20 { out[t + i] = 0 }
            store16(tcp.destinationPort, out, t)
            store16(tcp.sourcePort, out, t + 2)
            if tcp.flags.contains(.ack) {
                store32(tcp.acknowledgmentNumber, out, t + 4)
                out[t + 13] = 0x04  // RST
            } else {
                var length = UInt32(truncatingIfNeeded: tcp.payloadLength)
                if tcp.flags.contains(.syn) { length &+= 1 }
                if tcp.flags.contains(.fin) { length &+= 1 }
                store32(tcp.sequenceNumber &+ length, out, t + 8)
                out[t + 13] = 0x14  // RST|ACK
            }
            out[t + 12] = 5 << 4
        case .icmpPortUnreachable, .icmpProhibited:
            protocolNumber = v6 ? 58 : 1
            let limit = v6 ? maximumLength : ipv4AnswerLimit
            let quoted = min(bytes.count, packet.capturedLength, limit - ipLength - 8)
            guard quoted >= min(packet.ipHeaderLength, bytes.count) else { return 0 }
            transportLength = 8 + quoted
            let t = ipLength
            for i in 0..<8 { out[t + i] = 0 }
            if v6 {
                out[t] = 1
                out[t + 1] = kind == .icmpPortUnreachable ? 4 : 1
            } else {
                out[t] = 3
                out[t + 1] = kind == .icmpPortUnreachable ? 3 : 13
            }
            for i in 0..<quoted { out[t + 8 + i] = bytes[i] }
        }
        let total = ipLength + transportLength
        // The IP header, from the refused packet's destination back to its source.
        if v6 {
            out[0] = 0x60
            out[1] = 0; out[2] = 0; out[3] = 0
            store16(UInt16(transportLength), out, 4)
            out[6] = protocolNumber
            out[7] = 64
            store64(packet.destination.high, out, 8); store64(packet.destination.low, out, 16)
            store64(packet.source.high, out, 24); store64(packet.source.low, out, 32)
        } else {
            out[0] = 0x45
            out[1] = 0
            store16(UInt16(total), out, 2)
            store16(0, out, 4)
            store16(0x4000, out, 6)  // don't fragment
            out[8] = 64
            out[9] = protocolNumber
            store16(0, out, 10)
            store32(packet.destination.ipv4 ?? 0, out, 12)
            store32(packet.source.ipv4 ?? 0, out, 16)
            store16(~sum(UnsafeRawBufferPointer(rebasing: out[0..<20]), 0), out, 10)
        }
        // The transport checksum: over a pseudo-header, except for ICMPv4.
        let checksumAt = ipLength + (protocolNumber == 6 ? 16 : 2)
        var partial: UInt32 = 0
        if protocolNumber != 1 {
            if v6 {
                partial = sum(UnsafeRawBufferPointer(rebasing: out[8..<40]), 0)
            } else {
                partial = sum(UnsafeRawBufferPointer(rebasing: out[12..<20]), 0)
            }
            partial &+= UInt32(transportLength) &+ UInt32(protocolNumber)
        }
        let transport = UnsafeRawBufferPointer(rebasing: out[ipLength..<total])
        store16(~fold(sum(transport, partial)), out, checksumAt)
        return total
    }

    // MARK: Internals

    private static func store16(_ value: UInt16, _ out: UnsafeMutableRawBufferPointer, _ at: Int) {
        out[at] = UInt8(value >> 8)
        out[at + 1] = UInt8(truncatingIfNeeded: value)
    }

    private static func store32(_ value: UInt32, _ out: UnsafeMutableRawBufferPointer, _ at: Int) {
        store16(UInt16(value >> 16), out, at)
        store16(UInt16(truncatingIfNeeded: value), out, at + 2)
    }

    private static func store64(_ value: UInt64, _ out: UnsafeMutableRawBufferPointer, _ at: Int) {
        store32(UInt32(value >> 32), out, at)
        store32(UInt32(truncatingIfNeeded: value), out, at + 4)
    }

    /// One's-complement sum of 16-bit big-endian words (an odd last byte padded), folded.
    private static func sum(_ bytes: UnsafeRawBufferPointer, _ start: UInt32) -> UInt16 {
        fold(sumWide(bytes, start))
    }

    private static func sum(_ bytes: UnsafeRawBufferPointer, _ start: UInt32) -> UInt32 {
        sumWide(bytes, start)
    }

    private static func sumWide(_ bytes: UnsafeRawBufferPointer, _ start: UInt32) -> UInt32 {
        var total = UInt64(start)
        var i = 0
        while i + 1 < bytes.count {
            total += UInt64(bytes[i]) << 8 | UInt64(bytes[i + 1])
            i += 2
        }
        if i < bytes.count { total += UInt64(bytes[i]) << 8 }
        while total >> 16 != 0 { total = (total & 0xFFFF) + (total >> 16) }
        return UInt32(total)
    }

    private static func fold(_ value: UInt32) -> UInt16 {
        var total = value
        while total >> 16 != 0 { total = (total & 0xFFFF) + (total >> 16) }
        return UInt16(total)
    }
}
